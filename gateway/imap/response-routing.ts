/**
 * The store's responses on their way back to the client. They are framed by their literal counts
 * (response-reader.ts), so nothing inside a message is ever read as protocol, and literal bytes pass
 * as views of the socket's read buffer (no copies).
 *
 * Untagged responses are relayed here, rewritten where the client must not see the store's own words:
 * capabilities the gateway does not offer (capability-filter.ts) and, in restricted sessions, rights
 * the session does not have (rights-filter.ts). Tagged answers and continuations belong to the command
 * in flight, so they go to the relay (ResponseHost.onStatus), which knows what that command is.
 */
import { type CapabilityFilterOptions, carriesCapabilities, filterCapabilityText } from './capability-filter.js';
import type { ImapConnection } from './connection.js';
import { type CopyProbe, readProbeFetch } from './copy-probe.js';
import { type LineEnd, type ResponseEvent, ResponseReader } from './response-reader.js';
import { RIGHTS_RESPONSES, restrictRights } from './rights-filter.js';
import { CRLF } from './syntax.js';

/** A tagged answer, a continuation or a malformed status line: the command in flight's business. */
export type StatusResponse = Extract<ResponseEvent, { type: 'response' }>;

export const UNREADABLE = '* BYE [UNAVAILABLE] The mail store sent a response the gateway cannot relay';

/** What the routing needs to know of the command in flight (implemented by Relay). */
export interface ResponseHost {
  /** False once the session has ended or been handed on: the rest of a chunk is not routed. */
  readonly routing: boolean;
  /** A restricted COPY's size probe in flight: its FETCH answers are the gateway's (copy-probe.ts). */
  readonly copyProbe: CopyProbe | null;
  /** The store is answering the rest of a cancelled APPEND's line (append-stream.ts): its `* BAD`s are the gateway's. */
  readonly cancellingAppend: boolean;
  onStatus(response: StatusResponse): void;
  /** The stream is not what the gateway can relay: the session ends with `line`. */
  fail(line: string): void;
}

export class ResponseRouting {
  private readonly responses = new ResponseReader();
  private byeSeen = false;

  constructor(
    private readonly conn: ImapConnection,
    private readonly host: ResponseHost,
    private readonly capabilityOptions: CapabilityFilterOptions,
  ) {}

  /** The store said BYE: its close is expected, not a lost connection. */
  get sawBye(): boolean {
    return this.byeSeen;
  }

  /** Store bytes framed but not yet routed (a read buffer may be reused only when none are). */
  get bufferedBytes(): number {
    return this.responses.bufferedBytes;
  }

  /** Between responses: a parked session must not hand the next client half of one (session-cache.ts). */
  get atBoundary(): boolean {
    return this.responses.atBoundary;
  }

  /** One chunk from the store; the writes it causes go to the client in one system call (cork). */
  route(chunk: Buffer): void {
    this.responses.push(chunk);
    this.conn.cork();
    try {
      for (let event = this.responses.next(); event && this.host.routing; event = this.responses.next()) {
        this.onEvent(event);
      }
    } finally {
      this.conn.uncork();
    }
  }

  /** Relays response text as it came (CRLF restored unless more of the line follows). */
  forward(text: Buffer, end: LineEnd): void {
    this.conn.writeRaw(end === 'partial' ? text : Buffer.concat([text, CRLF]));
  }

  /** Relays a tagged answer: an OK may carry a `[CAPABILITY …]` code, filtered like the list itself. */
  forwardTagged(text: Buffer, end: LineEnd): void {
    this.forward(carriesCapabilities(text) ? filterCapabilityText(text, this.capabilityOptions) : text, end);
  }

  private onEvent(event: ResponseEvent): void {
    switch (event.type) {
      case 'literal-chunk':
        this.conn.writeRaw(event.data);
        return;
      case 'literal-end':
        return;
      case 'text':
        this.forward(event.text, event.end);
        return;
      case 'fatal':
        this.host.fail(UNREADABLE);
        return;
      case 'response':
        if (event.head.kind === 'untagged') this.onUntagged(event);
        else this.host.onStatus(event);
    }
  }

  private onUntagged({ head, text, end }: StatusResponse): void {
    if (head.status === 'BYE') this.byeSeen = true;
    if (head.status === 'BAD' && this.host.cancellingAppend) return;
    if (head.keyword === 'CAPABILITY' || (head.status !== null && carriesCapabilities(text))) {
      // A capability list must be rewritten whole: one that arrives in pieces is not relayed.
      if (end === 'partial') return this.host.fail(UNREADABLE);
      this.forward(filterCapabilityText(text, this.capabilityOptions), end);
      return;
    }
    const probe = this.host.copyProbe;
    if (probe && head.keyword === 'FETCH' && end === 'response-end' && readProbeFetch(probe, text)) return;
    if (this.capabilityOptions.restricted && head.keyword && RIGHTS_RESPONSES.has(head.keyword)) {
      // Rights must be rewritten whole; one we cannot read (a literal in it) is not relayed.
      const line = end === 'response-end' ? restrictRights(head.keyword, text.toString('latin1')) : null;
      if (line === null) return this.host.fail(UNREADABLE);
      this.forward(Buffer.from(line, 'latin1'), end);
      return;
    }
    this.forward(text, end);
  }
}
