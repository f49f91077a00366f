/**
 * The authenticated session: every client command is judged by the session policy, rebuilt from its
 * parse and sent to the store; the store's responses are framed literal-aware and passed back, with
 * capability lists filtered. One command is in flight at a time (see connection.ts), so each tagged
 * response belongs to it and the session state is known before the next command is read.
 *
 * Memory: literal bytes in both directions are passed as the socket's own Buffers (no copies), and
 * each side pauses the other when its writes back up, which keeps a 50 MB message to a few chunks.
 */
import { isDeepStrictEqual } from 'node:util';
import type net from 'node:net';
import type { AuthSuccess } from '../../src/auth/types.js';
import { SessionBudget, reserveAddedBytes } from '../../src/restricted/budget.js';
import type { Refusal as RuleRefusal } from '../../src/restricted/rules.js';
import { type CapabilityFilterOptions, carriesCapabilities, filterCapabilityText } from './capability-filter.js';
import { RIGHTS_RESPONSES, restrictRights } from './rights-filter.js';
import type { Arg, Command } from './command-ast.js';
import type { CommandReaderEvent } from './command-reader.js';
import { findCommand } from './command-table.js';
import type { ImapConnection } from './connection.js';
import { parseCommand } from './parse-command.js';
import { type ResponseEvent, ResponseReader } from './response-reader.js';
import { type UpstreamSegment, nonSyncLiteralMaxFor, serializeCommand } from './serialize-command.js';
import type { PolicyVerdict } from './restricted-policy.js';
import { decideCommand } from './session-policy.js';
import { type CopyProbe, copyProbeCommand, readProbeFetch, uidSet } from './copy-probe.js';
import type { Refusal } from './refusal.js';
import { RefusalAudit } from './refusal-audit.js';
import { changesSessionState, stateAfter } from './session-effects.js';
import type { UpstreamSession } from './upstream.js';
import type { RecyclingSocket } from './read-buffers.js';
import { CRLF } from './syntax.js';
import { MAX_PENDING_OUTPUT_BYTES } from './limits.js';
import { logOutStore, unselectThenPark } from './session-cache.js';

interface AppendState {
  /** The command as parsed when its message literal was announced; its end must parse the same. */
  planned: Command;
  clientSync: boolean;
  /** upstream: waiting for the store; literal: client bytes flowing; end: waiting for the CRLF; sent. */
  phase: 'upstream' | 'literal' | 'end' | 'sent';
  /** The last chunk, held back until the command is known to end well (see onAppendEvent). */
  held: Buffer | null;
}

interface InFlight {
  tag: string;
  /** The name sent upstream (CLOSE may have become UNSELECT). */
  name: string;
  segments: UpstreamSegment[];
  next: number;
  awaitingContinuation: boolean;
  idle: 'no' | 'starting' | 'idling' | 'done-sent';
  invalidDone: boolean;
  append: AppendState | null;
  /** A restricted COPY's size probe (copy-probe.ts): its answers are read here, not relayed. */
  probe: CopyProbe | null;
}

const LOST = '* BYE [UNAVAILABLE] Lost the connection to the mail store';
const UNREADABLE = '* BYE [UNAVAILABLE] The mail store sent a response the gateway cannot relay';

export class Relay {
  private readonly upstream: net.Socket;
  private readonly capabilities: string[];
  private readonly responses = new ResponseReader();
  private readonly capabilityOptions: CapabilityFilterOptions;
  private readonly nonSyncLiteralMax: number;
  private inFlight: InFlight | null = null;
  private sawBye = false;
  private closed = false;
  /** The client logged out and the store session was handed on (parked or logged out): never cut it here. */
  private handedOff = false;
  /**
   * A command that changes store-session state (ENABLE, an implicit CONDSTORE/QRESYNC, a saved search:
   * session-effects.ts) reached the store: the session differs from a fresh one and is never reused.
   */
  private sessionStateChanged = false;
  /** Restricted sessions: refusals, counted into a few audit rows (refusal-audit.ts). */
  private readonly refusals: RefusalAudit;
  /** Restricted sessions: what APPEND and COPY may still add (src/restricted/budget.ts). */
  private readonly budget: SessionBudget;

  private readonly onUpstreamChunk = (chunk: Buffer) => this.onUpstreamData(chunk);
  private readonly onUpstreamDrain = () => this.conn.pauseUpstreamInput(false);
  private readonly onUpstreamError = () => this.upstream.destroy();
  private readonly onUpstreamClose = () => {
    this.closed = true;
    this.conn.finish(this.sawBye ? undefined : LOST);
  };

  constructor(
    private readonly conn: ImapConnection,
    session: UpstreamSession,
    private readonly auth: AuthSuccess,
    /** Where this session may be parked when the client logs out (session-cache.ts); null: never. */
    private readonly parkKey: string | null = null,
  ) {
    this.upstream = session.socket;
    this.capabilities = session.capabilities;
    this.capabilityOptions = { maxMessageSize: conn.settings.maxMessageSize, restricted: auth.restricted };
    this.nonSyncLiteralMax = nonSyncLiteralMaxFor(session.capabilities);
    this.refusals = new RefusalAudit(conn.ctx, { userId: auth.userId, loginId: auth.loginId, ip: conn.remoteIp });
    const { config } = conn.ctx;
    this.budget = new SessionBudget({ sessionBytes: config.RESTRICTED_SESSION_BYTES, dailyBytes: config.RESTRICTED_DAILY_BYTES });
  }

  /** Starts reading the store; `leftover` is what the login exchange read past its end. */
  start(leftover: Buffer): void {
    const up = this.upstream;
    up.setNoDelay(true);
    up.on('data', this.onUpstreamChunk);
    // Literal chunks are written to the client as views of the read buffer: it may be reused only once
    // the client socket has taken every byte (nothing queued) and the framer holds nothing back.
    (up as RecyclingSocket).readBufferFree = () => !this.closed && this.responses.bufferedBytes === 0 && this.conn.pendingOutputBytes === 0;
    up.on('drain', this.onUpstreamDrain);
    up.on('error', this.onUpstreamError);
    up.on('close', this.onUpstreamClose);
    if (leftover.length > 0) this.onUpstreamData(leftover);
  }

  /** True while the client's APPEND message is being read: every reader event belongs to it. */
  get appendInProgress(): boolean {
    const phase = this.inFlight?.append?.phase;
    return phase === 'literal' || phase === 'end';
  }

  destroy(): void {
    this.closed = true;
    void this.refusals.flush();
    if (!this.handedOff) this.upstream.destroy();
  }

  /** Resolves once the session's refusal counts are in the audit log (tests, shutdown). */
  auditFlushed(): Promise<void> {
    return this.refusals.flush();
  }

  /**
   * The gateway ended the session (connection.endByGateway): LOGOUT to the store when it can read one as
   * a command — between commands, during IDLE (after DONE), or behind a command already sent whole —
   * otherwise the connection is cut. Never parked: the session must not serve anyone again.
   */
  logOutStoreNow(): void {
    if (this.closed || this.handedOff) return;
    const f = this.inFlight;
    const sentWhole = !f || (f.next >= f.segments.length && !f.awaitingContinuation && (!f.append || f.append.phase === 'sent'));
    if (!sentWhole || f?.idle === 'starting') return this.destroy();
    this.handedOff = true;
    this.closed = true;
    this.upstream.off('close', this.onUpstreamClose);
    this.upstream.off('data', this.onUpstreamChunk);
    this.upstream.resume();
    if (f?.idle === 'idling') this.upstream.write('DONE\r\n');
    logOutStore(this.upstream);
  }

  onClientDrain(): void {
    if (!this.closed) this.upstream.resume();
  }

  /** A complete, parsed client command. */
  onCommand(command: Command): void {
    const verdict = decideCommand(command, { state: this.conn.state, restricted: this.auth.restricted });
    const toSend = this.applyVerdict(command, verdict);
    if (toSend?.name === 'LOGOUT') this.logOut(toSend.tag);
    else if (toSend && this.auth.restricted && (toSend.name === 'COPY' || toSend.name === 'UID COPY')) this.probeCopy(toSend);
    else if (toSend) this.send(toSend, null);
  }

  /**
   * An APPEND/REPLACE announced its message literal. The command so far is judged and sent; the
   * client gets `+` (or its literal is read) only once the store is ready for the bytes.
   */
  startAppend(planned: Command, clientSync: boolean): void {
    const verdict = decideCommand(planned, { state: this.conn.state, restricted: this.auth.restricted });
    const toSend = this.applyVerdict(planned, verdict);
    // Refused: a {n} literal will not come, a {n+} one is read and dropped (never taken for commands).
    if (!toSend) {
      this.conn.reader.refuseLiteral();
      return;
    }
    const append: AppendState = { planned, clientSync, phase: 'upstream', held: null };
    if (!this.auth.restricted) {
      this.send(toSend, append);
      return;
    }
    const size = toSend.args.find((a): a is Extract<Arg, { type: 'streamed-literal' }> => a.type === 'streamed-literal')?.size ?? 0;
    this.withBudget(toSend, size, () => this.send(toSend, append), () => this.conn.reader.refuseLiteral());
  }

  /** Reader events while the APPEND message streams: chunks, its end, then the command's CRLF. */
  onAppendEvent(event: CommandReaderEvent): void {
    const append = this.inFlight!.append!;
    if (event.type === 'literal-chunk') {
      if (append.held) this.writeUpstream(append.held);
      append.held = event.data;
      return;
    }
    if (event.type === 'literal-end') {
      append.phase = 'end';
      return;
    }
    if (event.type === 'command' && append.phase === 'end') {
      const parsed = parseCommand(event.parts);
      if (parsed.ok && isDeepStrictEqual(parsed.command, append.planned)) {
        append.phase = 'sent';
        if (append.held) this.writeUpstream(append.held);
        append.held = null;
        this.conn.wait();
        this.runSegments();
        return;
      }
    }
    // Something other than the command's end followed the message (a second literal, more arguments,
    // a bare LF): the store must never complete this APPEND, so its session goes.
    this.destroy();
    this.conn.finish('* BYE Malformed APPEND; closing the connection');
  }

  /** The client's line during IDLE (RFC 2177 §3). */
  onIdleDone(valid: boolean): void {
    const f = this.inFlight;
    if (f?.idle !== 'idling') return; // the store had already ended the IDLE
    f.idle = 'done-sent';
    f.invalidDone = !valid;
    this.conn.wait();
    this.writeUpstream(Buffer.from('DONE\r\n'));
  }

  /**
   * LOGOUT is answered here (RFC 9051 §6.3.4: BYE, the tagged OK, then the close) without waiting for the
   * store: nothing the store could still say matters to a client that is leaving, and LOGOUT never
   * expunges. The store session is then parked for the same user's next login when it is in a state any
   * new session could be in (session-cache.ts), or else logged out politely.
   */
  private logOut(tag: string): void {
    const up = this.upstream;
    const cache = this.conn.settings.sessionCache;
    const selected = this.conn.state === 'selected';
    const reusable = cache !== null && this.parkKey !== null && !this.sessionStateChanged && this.responses.atBoundary;
    void this.refusals.flush();
    this.handedOff = true;
    this.closed = true;
    up.off('data', this.onUpstreamChunk);
    up.off('drain', this.onUpstreamDrain);
    up.off('error', this.onUpstreamError);
    up.off('close', this.onUpstreamClose);
    up.resume();
    this.conn.cork();
    this.conn.write('* BYE Logging out');
    this.conn.reply(tag, 'OK LOGOUT completed');
    this.conn.uncork();
    this.conn.finish();
    if (!reusable) logOutStore(up, tag);
    else if (selected) unselectThenPark(cache, this.parkKey!, up, this.capabilities);
    else cache.park(this.parkKey!, up, this.capabilities);
  }

  private applyVerdict(command: Command, verdict: PolicyVerdict): Command | null {
    const conn = this.conn;
    switch (verdict.action) {
      case 'allow':
      case 'rewrite': {
        const sent = verdict.action === 'rewrite' ? verdict.command : command;
        if (findCommand(sent.name)?.relayed) return sent;
        conn.bad(command.tag, `${command.name} is not available through this gateway`);
        return null;
      }
      case 'respond':
        for (const line of verdict.untagged) conn.write(`* ${line}`);
        conn.reply(command.tag, `OK ${verdict.text}`);
        return null;
      case 'refuse':
        this.refuse(command, verdict.refusal);
        return null;
    }
  }

  /** Answers a refusal; restricted-policy refusals are counted for the audit and the session's limit. */
  private refuse(command: Command, refusal: Refusal): void {
    if (!refusal.reason || !this.auth.restricted) {
      this.conn.refuse(command.tag, refusal);
      return;
    }
    this.refusals.record(refusal.reason, command.name);
    this.conn.refuse(command.tag, { ...refusal, text: `Restricted login: ${refusal.text}` });
  }

  private refuseByRule(command: Command, refusal: RuleRefusal): void {
    this.refuse(command, { status: 'NO', ...refusal });
  }

  /** Runs `go` once `bytes` are granted from the restricted budget; otherwise `refused`, then the refusal. */
  private withBudget(command: Command, bytes: number, go: () => void, refused: () => void = () => undefined): void {
    const conn = this.conn;
    conn.wait();
    reserveAddedBytes(conn.ctx.db, { userId: this.auth.userId, loginId: this.auth.loginId }, this.budget, bytes).then(
      (refusal) => {
        if (this.closed) return;
        if (!refusal) return go();
        refused();
        this.refuseByRule(command, refusal);
        conn.proceed();
      },
      (error: unknown) => {
        conn.ctx.log.error({ err: error }, 'restricted budget check failed');
        if (this.closed) return;
        refused();
        conn.refuse(command.tag, { status: 'NO', code: 'UNAVAILABLE', text: 'Try again later' });
        conn.proceed();
      },
    );
  }

  /**
   * A restricted COPY is charged the size of what it copies: first a FETCH of the messages' UIDs and
   * sizes (answered to us, not the client), then the budget, then `UID COPY` of exactly those UIDs,
   * so mail arriving in between is neither copied nor uncharged (copy-probe.ts).
   */
  private probeCopy(command: Command): void {
    this.send(copyProbeCommand(command), null, { copy: command, uids: [], bytes: 0 });
  }

  private afterProbe(probe: CopyProbe, status: string, text: Buffer, end: string): void {
    const { copy } = probe;
    if (status !== 'OK') {
      // The set did not fetch (no such message, bad set): the client gets the store's answer.
      this.forward(text, end);
      this.conn.proceed();
      return;
    }
    if (probe.uids.length === 0) {
      this.conn.reply(copy.tag, 'OK No messages copied');
      this.conn.proceed();
      return;
    }
    const mailbox = copy.args[1]!;
    const exact: Command = { tag: copy.tag, name: 'UID COPY', args: [{ type: 'sequence-set', value: uidSet(probe.uids) }, mailbox] };
    this.withBudget(copy, probe.bytes, () => this.send(exact, null));
  }

  private send(command: Command, append: AppendState | null, probe: CopyProbe | null = null): void {
    if (changesSessionState(command)) this.sessionStateChanged = true;
    this.inFlight = {
      tag: command.tag,
      name: command.name,
      segments: serializeCommand(command, { nonSyncLiteralMax: this.nonSyncLiteralMax }),
      next: 0,
      awaitingContinuation: false,
      idle: 'no',
      invalidDone: false,
      append,
      probe,
    };
    this.conn.wait();
    this.runSegments();
  }

  /** Sends the command's segments up to the next wait (a `+` from the store, or the client's message). */
  private runSegments(): void {
    const f = this.inFlight!;
    while (f.next < f.segments.length) {
      const segment = f.segments[f.next++]!;
      if (segment.kind === 'bytes') {
        this.writeUpstream(segment.data);
      } else if (segment.kind === 'await-continuation') {
        f.awaitingContinuation = true;
        return;
      } else {
        const append = f.append!;
        append.phase = 'literal';
        if (append.clientSync) this.conn.write('+ Ready for literal data');
        this.conn.reader.streamLiteral();
        this.conn.proceed();
        return;
      }
    }
    if (f.name === 'IDLE') f.idle = 'starting';
  }

  private writeUpstream(data: Buffer): void {
    if (this.closed) return;
    this.upstream.write(data);
    if (this.upstream.writableLength > MAX_PENDING_OUTPUT_BYTES) this.conn.pauseUpstreamInput(true);
  }

  private onUpstreamData(chunk: Buffer): void {
    this.responses.push(chunk);
    this.conn.cork();
    try {
      for (let event = this.responses.next(); event && !this.closed; event = this.responses.next()) {
        this.onResponseEvent(event);
      }
    } finally {
      this.conn.uncork();
    }
    if (this.conn.outputBlocked && !this.closed) this.upstream.pause();
  }

  private onResponseEvent(event: ResponseEvent): void {
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
        this.fail(UNREADABLE);
        return;
      case 'response':
        this.onResponse(event);
    }
  }

  private onResponse(event: Extract<ResponseEvent, { type: 'response' }>): void {
    const { head, text, end } = event;
    if (head.kind === 'untagged') {
      if (head.status === 'BYE') this.sawBye = true;
      if (head.keyword === 'CAPABILITY' || (head.status !== null && carriesCapabilities(text))) {
        // A capability list must be rewritten whole: one that arrives in pieces is not relayed.
        if (end === 'partial') return this.fail(UNREADABLE);
        this.forward(filterCapabilityText(text, this.capabilityOptions), end);
        return;
      }
      if (this.inFlight?.probe && head.keyword === 'FETCH' && end === 'response-end' && readProbeFetch(this.inFlight.probe, text)) return;
      if (this.capabilityOptions.restricted && head.keyword && RIGHTS_RESPONSES.has(head.keyword)) {
        // Rights must be rewritten whole; one we cannot read (a literal in it) is not relayed.
        const line = end === 'response-end' ? restrictRights(head.keyword, text.toString('latin1')) : null;
        if (line === null) return this.fail(UNREADABLE);
        this.forward(Buffer.from(line, 'latin1'), end);
        return;
      }
      this.forward(text, end);
      return;
    }
    const f = this.inFlight;
    // Status lines and continuations are short; a split one means the stream is not what we think.
    if (head.kind === 'malformed' || end !== 'response-end' || !f) return this.fail(UNREADABLE);
    if (head.kind === 'continuation') {
      if (f.awaitingContinuation) {
        f.awaitingContinuation = false;
        this.runSegments();
      } else if (f.idle === 'starting') {
        f.idle = 'idling';
        this.forward(text, end);
        this.conn.reader.enterIdle();
        this.conn.proceed();
      } else {
        this.fail(UNREADABLE);
      }
      return;
    }
    // Tagged: it completes the command in flight, which has the same tag (tags are not rewritten).
    if (head.tag !== f.tag || f.append?.phase === 'literal' || f.append?.phase === 'end') return this.fail(UNREADABLE);
    if (f.idle === 'idling') this.conn.reader.endIdle(); // the store ended the IDLE before any DONE
    if (f.probe) {
      this.inFlight = null;
      this.afterProbe(f.probe, head.status!, text, end);
      return;
    }
    if (f.invalidDone) this.conn.reply(f.tag, 'BAD Expected DONE to end IDLE');
    else this.forward(carriesCapabilities(text) ? filterCapabilityText(text, this.capabilityOptions) : text, end);
    this.complete(f, head.status!);
  }

  private forward(text: Buffer, end: string): void {
    this.conn.writeRaw(end === 'partial' ? text : Buffer.concat([text, CRLF]));
  }

  /** The command's tagged response has been relayed: update the state, then read the next command. */
  private complete(f: InFlight, status: string): void {
    this.inFlight = null;
    // The store refused the APPEND before asking for its message: the client's literal is not wanted.
    if (f.append?.phase === 'upstream') this.conn.reader.refuseLiteral();
    const conn = this.conn;
    conn.state = stateAfter(f.name, status, conn.state);
    conn.proceed();
  }

  private fail(line: string): void {
    this.destroy();
    this.conn.finish(line);
  }
}
