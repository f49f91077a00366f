/**
 * The authenticated session's orchestration: every client command the step let through (client-step.ts)
 * is rebuilt from its parse and sent to the store, and the store's tagged answer completes it. One
 * command is in flight at a time (see connection.ts), so each tagged answer belongs to it and the
 * session state is known before the next command is read.
 *
 * The parts with a life of their own are elsewhere: the store's answers back to the client
 * (response-routing.ts), APPEND messages (append-stream.ts), IDLE (idle-exchange.ts), the restricted
 * byte budget and refusal audit (restricted-additions.ts), COPY's size probe (copy-probe.ts) and the
 * parking of store sessions at LOGOUT (session-cache.ts). What stays here is which of them a command
 * goes to, the order of the writes upstream, and when the connection may read the next command.
 *
 * Memory: literal bytes in both directions are passed as the socket's own Buffers (no copies), and
 * each side pauses the other when its writes back up, which keeps a 50 MB message to a few chunks.
 */
import type net from 'node:net';
import type { AuthSuccess } from '../../src/auth/types.js';
import type { Command } from './command-ast.js';
import type { ImapConnection } from './connection.js';
import type { LineEnd } from './response-reader.js';
import { type ResponseHost, ResponseRouting, type StatusResponse, UNREADABLE } from './response-routing.js';
import { type UpstreamSegment, nonSyncLiteralMaxFor, serializeCommand } from './serialize-command.js';
import { type CopyProbe, copyProbeCommand, uidSet } from './copy-probe.js';
import type { Refusal } from './refusal.js';
import { RestrictedAdditions } from './restricted-additions.js';
import { changesSessionState, stateAfter } from './session-effects.js';
import type { UpstreamSession } from './upstream.js';
import { readsByView } from './read-buffers.js';
import { MAX_PENDING_OUTPUT_BYTES } from './limits.js';
import { handOffAtLogout, logOutStore } from './session-cache.js';
import { IdleExchange } from './idle-exchange.js';
import { type AppendProgress, AppendStream, lastMessageSize } from './append-stream.js';

interface InFlight {
  tag: string;
  /** The name sent upstream (CLOSE may have become UNSELECT). */
  name: string;
  segments: UpstreamSegment[];
  next: number;
  awaitingContinuation: boolean;
  append: AppendStream | null;
  /** A restricted COPY's size probe (copy-probe.ts): its answers are read here, not relayed. */
  probe: CopyProbe | null;
}

const LOST = '* BYE [UNAVAILABLE] Lost the connection to the mail store';

export class Relay implements ResponseHost {
  private readonly upstream: net.Socket;
  private readonly capabilities: string[];
  /** The store's answers back to the client (response-routing.ts); tagged ones come back to onStatus. */
  private readonly responses: ResponseRouting;
  private readonly nonSyncLiteralMax: number;
  /** Read for every client command (client-step.ts): worked out once, the capabilities never change. */
  private readonly storeMultiAppend: boolean;
  private inFlight: InFlight | null = null;
  /** The IDLE in flight, if any (idle-exchange.ts): at most one, as every command. */
  private readonly idle: IdleExchange;
  private closed = false;
  /** The client logged out and the store session was handed on (parked or logged out): never cut it here. */
  private handedOff = false;
  /**
   * A command that changes store-session state (ENABLE, an implicit CONDSTORE/QRESYNC, a saved search:
   * session-effects.ts) reached the store: the session differs from a fresh one and is never reused.
   */
  private sessionStateChanged = false;
  /** Restricted sessions: the byte budget of APPEND and COPY, and the refusals' audit (restricted-additions.ts). */
  private readonly additions: RestrictedAdditions;

  /** For the sub-machines (IDLE, APPEND): one function for the session, not one per command. */
  private readonly toUpstream = (data: Buffer) => this.writeUpstream(data);
  private readonly onUpstreamChunk = (chunk: Buffer) => this.onUpstreamData(chunk);
  private readonly onUpstreamDrain = () => this.conn.pauseUpstreamInput(false);
  private readonly onUpstreamError = () => this.upstream.destroy();
  private readonly onUpstreamClose = () => {
    this.closed = true;
    this.conn.finish(this.responses.sawBye ? undefined : LOST);
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
    this.responses = new ResponseRouting(conn, this, { maxMessageSize: conn.settings.maxMessageSize, restricted: auth.restricted });
    this.nonSyncLiteralMax = nonSyncLiteralMaxFor(session.capabilities);
    this.storeMultiAppend = session.capabilities.some((c) => c.toUpperCase() === 'MULTIAPPEND');
    this.idle = new IdleExchange(conn, this.toUpstream);
    this.additions = new RestrictedAdditions(conn, auth, () => this.closed);
  }

  /** Starts reading the store; `leftover` is what the login exchange read past its end. */
  start(leftover: Buffer): void {
    const up = this.upstream;
    up.setNoDelay(true);
    up.on('data', this.onUpstreamChunk);
    // Literal chunks are written to the client as views of the read buffer: it may be reused only once
    // the client socket has taken every byte (nothing queued) and the framer holds nothing back.
    readsByView(up, () => !this.closed && this.responses.bufferedBytes === 0 && this.conn.pendingOutputBytes === 0);
    up.on('drain', this.onUpstreamDrain);
    up.on('error', this.onUpstreamError);
    up.on('close', this.onUpstreamClose);
    if (leftover.length > 0) this.onUpstreamData(leftover);
  }

  /** The store takes MULTIAPPEND, so the gateway offers it (capability-filter.ts). */
  get multiAppend(): boolean {
    return this.storeMultiAppend;
  }

  /** A restricted login: nothing that destroys mail may pass. */
  get restricted(): boolean {
    return this.auth.restricted;
  }

  /** While the client's APPEND message is being read (every reader event belongs to it): what it must end as. */
  appendInProgress(): AppendProgress | null {
    const append = this.inFlight?.append;
    return append?.reading ? append : null;
  }

  /** For the drain (connection.drain): no command in flight, or only an IDLE the store has accepted. */
  get interruptible(): boolean {
    return !this.inFlight || this.idle.idling;
  }

  /** A restricted-policy refusal was answered (client-step.ts): counted for the audit. */
  noteRefusal(reason: string, command: string): void {
    this.additions.noteRefusal(reason, command);
  }

  destroy(): void {
    this.closed = true;
    void this.additions.flush();
    if (!this.handedOff) this.upstream.destroy();
  }

  /** Resolves once the session's refusal counts are in the audit log (tests, shutdown). */
  auditFlushed(): Promise<void> {
    return this.additions.flush();
  }

  /**
   * The gateway ended the session (connection.endByGateway): LOGOUT to the store when it can read one as
   * a command — between commands, during IDLE (after DONE), or behind a command already sent whole —
   * otherwise the connection is cut. Never parked: the session must not serve anyone again.
   */
  logOutStoreNow(): void {
    if (this.closed || this.handedOff) return;
    const f = this.inFlight;
    const sentWhole = !f || (f.next >= f.segments.length && !f.awaitingContinuation && (!f.append || f.append.sentWhole));
    if (!sentWhole || this.idle.starting) return this.destroy();
    this.handedOff = true;
    this.closed = true;
    this.upstream.off('close', this.onUpstreamClose);
    this.upstream.off('data', this.onUpstreamChunk);
    this.upstream.resume();
    if (this.idle.idling) this.upstream.write('DONE\r\n');
    logOutStore(this.upstream);
  }

  onClientDrain(): void {
    if (!this.closed) this.upstream.resume();
  }

  /** A client command the session policy let through (client-step.ts), as it is to be sent. */
  onCommand(command: Command): void {
    if (command.name === 'LOGOUT') this.logOut(command.tag);
    else if (this.auth.restricted && (command.name === 'COPY' || command.name === 'UID COPY')) this.probeCopy(command);
    else this.send(command, null);
  }

  /**
   * An APPEND/REPLACE announced its message literal and the policy let it through. The command so far
   * is sent; the client gets `+` (or its literal is read) only once the store is ready for the bytes.
   * `planned` is the command as parsed with the literal announced: its end must parse the same.
   */
  startAppend(command: Command, planned: Command, clientSync: boolean): void {
    const append = new AppendStream(this.conn, this.toUpstream, planned, clientSync);
    if (!this.auth.restricted) {
      this.send(command, append);
      return;
    }
    const bytes = lastMessageSize(command);
    const go = () => {
      append.charge(bytes);
      this.send(command, append);
    };
    this.additions.charge(command, bytes, go, () => this.conn.refuseLiteral());
  }

  /**
   * MULTIAPPEND (RFC 3502): the next message was announced and the policy let the whole command so far
   * through. Restricted sessions are charged each message before its bytes are read; a refusal cancels
   * the whole command (cancelAppend), so the store keeps none of its messages.
   */
  continueAppend(command: Command, planned: Command, clientSync: boolean): void {
    const f = this.inFlight!;
    const append = f.append!;
    const go = () => {
      const segments = serializeCommand(command, { nonSyncLiteralMax: this.nonSyncLiteralMax });
      f.next = append.nextMessage(planned, clientSync, segments);
      f.segments = segments;
      this.runSegments();
    };
    this.conn.wait();
    if (!this.auth.restricted) return go();
    const bytes = lastMessageSize(command);
    const granted = () => {
      append.charge(bytes);
      go();
    };
    this.additions.chargeNext(command, bytes, granted, (refusal) => this.cancelAppend(refusal, true));
  }

  /**
   * The APPEND cannot complete (a further message refused, junk after a message): the store's command is
   * made to fail (append-stream.ts cancel); once the store has answered, the client gets `refusal` and the
   * connection goes on. `refuseLiteral`: the client's announced literal is refused (a {n+} one is read and
   * dropped, so the stream stays in step).
   */
  cancelAppend(refusal: Refusal, refuseLiteral: boolean): void {
    if (refuseLiteral) this.conn.refuseLiteral();
    this.conn.wait();
    this.inFlight!.append!.cancel(refusal);
  }

  /** A chunk of the APPEND message (the last one is held back: append-stream.ts). */
  onAppendChunk(data: Buffer): void {
    this.inFlight!.append!.chunk(data);
  }

  onAppendEnded(): void {
    this.inFlight!.append!.messageEnded();
  }

  /** The command's end followed the message as planned: the store gets the last bytes and the CRLF. */
  completeAppend(): void {
    this.inFlight!.append!.complete();
    this.conn.wait();
    this.runSegments();
  }

  /** The client's line during IDLE (RFC 2177 §3). */
  onIdleDone(valid: boolean): void {
    this.idle.clientDone(valid);
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
    void this.additions.flush();
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
    handOffAtLogout(up, reusable ? { cache, key: this.parkKey!, capabilities: this.capabilities, selected } : null, tag);
  }

  /**
   * A restricted COPY is charged the size of what it copies: first a FETCH of the messages' UIDs and
   * sizes (answered to us, not the client), then the budget, then `UID COPY` of exactly those UIDs,
   * so mail arriving in between is neither copied nor uncharged (copy-probe.ts).
   */
  private probeCopy(command: Command): void {
    this.send(copyProbeCommand(command), null, { copy: command, uids: [], bytes: 0 });
  }

  private afterProbe(probe: CopyProbe, status: string, text: Buffer, end: LineEnd): void {
    const { copy } = probe;
    if (status !== 'OK') {
      // The set did not fetch (no such message, bad set): the client gets the store's answer.
      this.responses.forward(text, end);
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
    this.additions.charge(copy, probe.bytes, () => this.send(exact, null));
  }

  private send(command: Command, append: AppendStream | null, probe: CopyProbe | null = null): void {
    if (changesSessionState(command)) this.sessionStateChanged = true;
    this.inFlight = {
      tag: command.tag,
      name: command.name,
      segments: serializeCommand(command, { nonSyncLiteralMax: this.nonSyncLiteralMax }),
      next: 0,
      awaitingContinuation: false,
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
        f.append!.messageWanted();
        return;
      }
    }
    if (f.name === 'IDLE') this.idle.begin();
  }

  private writeUpstream(data: Buffer): void {
    if (this.closed) return;
    this.upstream.write(data);
    if (this.upstream.writableLength > MAX_PENDING_OUTPUT_BYTES) this.conn.pauseUpstreamInput(true);
  }

  private onUpstreamData(chunk: Buffer): void {
    this.responses.route(chunk);
    if (this.conn.outputBlocked && !this.closed) this.upstream.pause();
  }

  /** For the routing: false once the session has ended or been handed on. */
  get routing(): boolean {
    return !this.closed;
  }

  get copyProbe(): CopyProbe | null {
    return this.inFlight?.probe ?? null;
  }

  get cancellingAppend(): boolean {
    return this.inFlight?.append?.syncing ?? false;
  }

  /** A tagged answer or continuation from the store: it belongs to the command in flight. */
  onStatus({ head, text, end }: StatusResponse): void {
    const f = this.inFlight;
    // Status lines and continuations are short; a split one means the stream is not what we think.
    if (head.kind === 'malformed' || end !== 'response-end' || !f) return this.fail(UNREADABLE);
    if (head.kind === 'continuation') {
      if (f.awaitingContinuation) {
        f.awaitingContinuation = false;
        this.runSegments();
      } else if (this.idle.starting) {
        this.responses.forward(text, end);
        this.idle.accepted();
      } else {
        this.fail(UNREADABLE);
      }
      return;
    }
    if (f.append?.cancelled) return this.onCancelAnswer(f, f.append, head.tag, head.status);
    // Tagged: it completes the command in flight, which has the same tag (tags are not rewritten).
    if (head.tag !== f.tag || f.append?.reading) return this.fail(UNREADABLE);
    const invalidDone = this.idle.end();
    if (f.probe) {
      this.inFlight = null;
      this.afterProbe(f.probe, head.status!, text, end);
      return;
    }
    // Counted with the session's other BADs (connection.ts refuse()).
    if (invalidDone) this.conn.bad(f.tag, 'Expected DONE to end IDLE');
    else this.responses.forwardTagged(text, end);
    this.complete(f, head.status!);
  }

  /** The store's tagged answers to a cancelled APPEND: first the APPEND's own, then the sync NOOP's. */
  private onCancelAnswer(f: InFlight, append: AppendStream, tag: string | null, status: string | null): void {
    const outcome = append.storeAnswered(tag, status, f.tag);
    if (outcome === 'unreadable') return this.fail(UNREADABLE);
    if (outcome === 'wait') return;
    if (append.chargedBytes === 0) return this.answerCancelled(f.tag, append.refusal);
    // The store failed the command and kept none of its messages, so what they were charged is given
    // back, before the client hears: its next APPEND is judged with the budget as it really is. The
    // command stays in flight until then, so a drain waits for its answer.
    this.additions.refund(append.chargedBytes, () => this.answerCancelled(f.tag, append.refusal));
  }

  private answerCancelled(tag: string, refusal: Refusal): void {
    this.inFlight = null;
    this.conn.refuse(tag, refusal);
    this.conn.proceed();
  }

  /** The command's tagged response has been relayed: update the state, then read the next command. */
  private complete(f: InFlight, status: string): void {
    this.inFlight = null;
    // The store refused the APPEND before asking for its message: the client's literal is not wanted.
    if (f.append?.awaitingStore) this.conn.refuseLiteral();
    const conn = this.conn;
    conn.enterState(stateAfter(f.name, status, conn.state));
    conn.proceed();
  }

  /** Ends the session with `line`: the store's stream or ours is not what the gateway can relay. */
  fail(line: string): void {
    this.destroy();
    this.conn.finish(line);
  }
}
