/**
 * One client connection: the socket, the command reader, and the loop that feeds commands one at a
 * time to the pre-authentication handlers (pre-auth.ts) or, after login, to the relay (relay.ts).
 *
 * One command at a time is the safety rule: the next command is not even parsed until the previous
 * one has completed, so the session state it is judged in (not authenticated, restricted, selected)
 * is always the state the store is in. Pipelined bytes wait in the reader, bounded by
 * MAX_UNREAD_CLIENT_BYTES (then in the client's own socket). Throughput does not suffer: bulk
 * transfers are single commands whose responses stream through.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import type { AppContext } from '../../src/context.js';
import type { Command, SessionState } from './command-ast.js';
import { clientNameOf, rememberClientId } from './client-id.js';
import { type StepAction, type StepContext, clientStep } from './client-step.js';
import { CommandReader, type CommandReaderEvent } from './command-reader.js';
import { greetingLine, type PreAuthState } from './greeting.js';
import {
  MAX_BAD_COMMANDS,
  MAX_COMMAND_BYTES,
  MAX_LINE_BYTES,
  MAX_LITERAL_BYTES,
  MAX_REFUSED_COMMANDS,
  MAX_UNREAD_CLIENT_BYTES,
  PRE_AUTH_MAX_COMMAND_BYTES,
  PRE_AUTH_MAX_LINE_BYTES,
  PRE_AUTH_MAX_LITERAL_BYTES,
  PRE_AUTH_MAX_UNREAD_BYTES,
} from './limits.js';
import { PreLoginDeadline } from './pre-login-deadline.js';
import { type Refusal, refusalLine } from './refusal.js';
import { handlePreAuthCommand, handleSaslResponse } from './pre-auth.js';
import type { Relay } from './relay.js';
import type { ConnectionSettings } from './connection-settings.js';
import { ClientSocket, PAUSED_FOR_BUFFER, PAUSED_FOR_UPSTREAM } from './client-socket.js';
import type { LiveHandle, LiveSessionInfo } from '../../src/sessions/types.js';

export class ImapConnection {
  /** Only this class drives the reader: other files say what the next bytes are through the methods below. */
  private readonly reader: CommandReader;
  private sessionState: SessionState = 'not-authenticated';
  private relay: Relay | null = null;
  /** Tag of an AUTHENTICATE waiting for the client's SASL response line. */
  private saslTag: string | null = null;
  private isSecure: boolean;
  readonly remoteIp: string;
  readonly localAddress: string | undefined;
  /** The client's socket, writes and backpressure (client-socket.ts); replaced inside at STARTTLS. */
  private readonly client: ClientSocket;
  private waiting = false;
  private pumping = false;
  private closed = false;
  private badCommands = 0;
  private refusedCommands = 0;
  private readonly deadline: PreLoginDeadline;
  private verifying = false;
  /** This session in the live-session registry (src/sessions/), once logged in. */
  private live: LiveHandle | null = null;
  /** In every log line of this connection (pino child logger), and in nothing the client sees. */
  readonly sessionId = crypto.randomBytes(6).toString('base64url');
  /** The shared context with this session's logger: whatever logs through conn.ctx names the session. */
  private readonly sessionCtx: AppContext;
  /** Set by drain(): the BYE text to end with once no command is in flight. */
  private drainReason: string | null = null;
  private reportedClosed = false;

  private readonly onData = (chunk: Buffer) => {
    this.reader.push(chunk);
    if (this.reader.bufferedBytes > this.maxUnreadBytes) this.client.pauseInput(PAUSED_FOR_BUFFER);
    this.pump();
  };
  private readonly onDrain = () => this.relay?.onClientDrain();
  private readonly onTimeout = () => this.finish('* BYE Autologout; idle for too long');
  private readonly onGone = () => this.destroy();

  constructor(
    socket: net.Socket,
    secure: boolean,
    readonly settings: ConnectionSettings,
    private readonly onClosed: (c: ImapConnection) => void,
    /** The client's address when a trusted proxy named it (PROXY protocol); default the socket peer. */
    remoteIp?: string,
  ) {
    this.isSecure = secure;
    this.remoteIp = remoteIp ?? (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.localAddress = socket.localAddress;
    this.sessionCtx = { ...settings.ctx, log: settings.ctx.log.child({ session: this.sessionId, protocol: 'imap' }) };
    this.sessionCtx.log.info({ ip: this.remoteIp, secure }, 'imap connection opened');
    this.reader = new CommandReader({
      maxMessageSize: settings.maxMessageSize,
      maxLineBytes: PRE_AUTH_MAX_LINE_BYTES,
      maxLiteralBytes: PRE_AUTH_MAX_LITERAL_BYTES,
      maxCommandBytes: PRE_AUTH_MAX_COMMAND_BYTES,
    });
    this.client = new ClientSocket(socket, { data: this.onData, drain: this.onDrain, timeout: this.onTimeout, gone: this.onGone });
    this.client.setTimeout(settings.unauthenticatedTimeoutMs);
    this.deadline = new PreLoginDeadline(settings.preLoginDeadlineMs, () =>
      this.finish(`* BYE Autologout; not logged in within ${Math.round(settings.preLoginDeadlineMs / 1000)} seconds`),
    );
    this.write(greetingLine(this.preAuthState()));
  }

  get ctx(): AppContext {
    return this.sessionCtx;
  }

  /** RFC 9051 §3: not authenticated, authenticated or selected. */
  get state(): SessionState {
    return this.sessionState;
  }

  /** A command completed and changed the mailbox state (session-effects.ts stateAfter). */
  enterState(state: SessionState): void {
    if (this.relay) this.sessionState = state;
  }

  get secure(): boolean {
    return this.isSecure;
  }

  /** AUTHENTICATE sent its `+`: the next line is the SASL response for `tag`. */
  expectSaslResponse(tag: string): void {
    this.saslTag = tag;
    this.reader.expectSaslResponse();
  }

  /** The announced literal is an APPEND message the store is ready for: its bytes are streamed to it. */
  streamLiteral(): void {
    this.reader.streamLiteral();
  }

  /** The announced literal is not wanted: a {n} one will not come, a {n+} one is read and dropped. */
  refuseLiteral(): void {
    this.reader.refuseLiteral();
  }

  /** The store accepted IDLE and the client has its `+`: the next line must be DONE (RFC 2177 §3). */
  enterIdle(): void {
    this.reader.enterIdle();
  }

  /** The store ended the IDLE itself: lines are commands again (a late DONE is dropped: command-reader.ts). */
  endIdle(): void {
    this.reader.endIdle();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** What the pre-authentication capability list depends on, now. */
  preAuthState(): PreAuthState {
    return {
      secure: this.secure,
      tlsAvailable: this.settings.tlsContext !== null,
      loginAllowed: this.secure || this.settings.plaintextLoginAllowed(this.localAddress),
    };
  }

  /** Writes one response line (CRLF added). */
  write(line: string): void {
    if (!this.closed) this.client.writeLine(line);
  }

  /** Writes relayed bytes as they are; false when the client socket wants a pause. */
  writeRaw(data: Buffer): boolean {
    return this.closed ? true : this.client.writeRaw(data);
  }

  /** Batches the writes of one upstream chunk into one system call. */
  cork(): void {
    this.client.cork();
  }

  uncork(): void {
    this.client.uncork();
  }

  /** Bytes written to the client socket and not yet taken by the kernel (they may be views of read buffers). */
  get pendingOutputBytes(): number {
    return this.client.pendingOutputBytes;
  }

  /** Too much is queued for the client: stop reading the store until the client socket drains. */
  get outputBlocked(): boolean {
    return this.client.outputBlocked;
  }

  /** `tag text`, or `* text` when the command had no readable tag. */
  reply(tag: string | null, text: string): void {
    this.write(`${tag ?? '*'} ${text}`);
  }

  /** Answers BAD and counts it: a client that keeps sending what we cannot accept is cut off. */
  bad(tag: string | null, text: string): void {
    this.refuse(tag, { status: 'BAD', code: null, text });
  }

  /**
   * The one way a command is refused. BADs and restricted-policy refusals are counted: a client that
   * keeps sending what we cannot accept, or keeps trying what its session may not do, is cut off.
   */
  refuse(tag: string | null, refusal: Refusal): void {
    this.write(refusalLine(tag, refusal));
    if (refusal.status === 'BAD' && ++this.badCommands >= MAX_BAD_COMMANDS) this.finish('* BYE Too many invalid commands');
    else if (refusal.reason && ++this.refusedCommands >= MAX_REFUSED_COMMANDS) this.finish('* BYE Too many refused commands');
  }

  /** Stops reading commands until proceed(): a command is in progress. */
  wait(): void {
    this.waiting = true;
  }

  /**
   * A login is being verified: neither the idle timer nor the pre-login deadline runs meanwhile, since
   * the wait is ours, not the client's. proceed() starts them again.
   */
  pauseLoginTimers(): void {
    this.verifying = true;
    this.deadline.pause();
    this.client.setTimeout(0);
  }

  /**
   * The process is stopping (SIGTERM): `* BYE` with the reason now if no command is in flight (or only an
   * IDLE), else as soon as the command in flight (an APPEND, a login being verified …) has its answer. The
   * store session is logged out politely either way (endByGateway).
   */
  drain(reason: string): void {
    this.drainReason = reason;
    this.endIfDrained();
  }

  private endIfDrained(): boolean {
    if (this.drainReason === null || this.closed) return false;
    const idle = this.relay ? this.relay.interruptible && !this.relay.appendInProgress() : !this.waiting;
    if (idle) this.endByGateway(this.drainReason);
    return idle;
  }

  /** The current command is over: read the next one. */
  proceed(): void {
    if (this.verifying) {
      this.verifying = false;
      if (this.state === 'not-authenticated' && !this.closed) {
        this.deadline.resume();
        this.client.setTimeout(this.settings.unauthenticatedTimeoutMs);
      }
    }
    this.waiting = false;
    if (this.endIfDrained()) return;
    this.pump();
  }

  pauseUpstreamInput(on: boolean): void {
    if (on) this.client.pauseInput(PAUSED_FOR_UPSTREAM);
    else this.client.resumeInput(PAUSED_FOR_UPSTREAM);
  }

  /** Login succeeded and the store session is open: from now on commands go to the relay. */
  beginSession(relay: Relay): void {
    this.relay = relay;
    this.sessionState = 'authenticated';
    this.deadline.stop();
    this.reader.setLimits({ maxLineBytes: MAX_LINE_BYTES, maxLiteralBytes: MAX_LITERAL_BYTES, maxCommandBytes: MAX_COMMAND_BYTES });
    this.client.setTimeout(this.settings.authenticatedTimeoutMs);
  }

  /**
   * Registers the logged-in session, so that revoking its login, disabling the user or changing the
   * password ends it (endByGateway) on whichever instance the change is made. Resolves once the database
   * confirmed it (a change that raced the login has ended it by then: check isClosed).
   */
  async trackLiveSession(info: Omit<LiveSessionInfo, 'protocol' | 'clientIp'>): Promise<void> {
    if (this.closed) return;
    this.live = this.ctx.liveSessions.register({ ...info, protocol: 'imap', clientIp: this.remoteIp }, (reason) => this.endByGateway(reason));
    await this.live.checked;
  }

  /** An ID after login (Thunderbird sends it then): the live-session list names the client from now on. */
  private nameClient(command: Command): void {
    rememberClientId(this, command);
    const name = clientNameOf(this);
    if (name) this.live?.nameClient(name);
  }

  /** The login registered by trackLiveSession did not become a session after all (the store was down). */
  forgetLiveSession(): void {
    this.live?.unregister();
    this.live = null;
  }

  /**
   * Ends the session for a reason of the gateway's (login revoked …): `* BYE`, then the close. The store
   * session is logged out, never parked for reuse; nothing the client sends after this reaches the store.
   */
  endByGateway(reason: string): void {
    if (this.closed) return;
    this.relay?.logOutStoreNow();
    this.finish(`* BYE ${reason.replace(/[^\x20-\x7e]/g, '')}`);
  }

  /**
   * RFC 9051 §6.2.1: after our OK the handshake starts at once, and every byte the client sent before
   * it is dropped (nginx CVE-2014-3556, Dovecot CVE-2021-33515: plaintext injected before the handshake
   * ran inside the TLS session).
   */
  startTls(): void {
    this.reader.discardBuffered();
    this.wait();
    this.client.upgrade(this.settings.tlsContext!, this.settings.unauthenticatedTimeoutMs, () => {
      this.isSecure = true;
      this.proceed();
    });
  }

  /** Writes a last line (usually `* BYE …`) and closes once it is flushed. The store session goes too. */
  finish(line?: string): void {
    if (this.closed) return;
    if (line) this.write(line);
    this.closed = true;
    this.deadline.stop();
    this.live?.unregister();
    this.relay?.destroy();
    this.client.end();
  }

  /** Cuts the connection at once (client gone, server closing). */
  destroy(): void {
    this.deadline.stop();
    if (!this.closed) {
      this.closed = true;
      this.live?.unregister();
      this.relay?.destroy();
    }
    this.client.destroy();
    if (!this.reportedClosed) {
      this.reportedClosed = true;
      this.ctx.log.info({ loggedIn: this.relay !== null }, 'imap connection closed');
    }
    this.onClosed(this);
  }

  /** Before login a connection may hold little (limits.ts). */
  private get maxUnreadBytes(): number {
    return this.state === 'not-authenticated' ? PRE_AUTH_MAX_UNREAD_BYTES : MAX_UNREAD_CLIENT_BYTES;
  }

  /** Reads and handles events until a command has to wait or the bytes run out. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.waiting && !this.closed) {
        const event = this.reader.next();
        if (!event) break;
        this.handle(event);
      }
    } catch (error) {
      // A bug, not client input: fail closed for this connection only.
      this.ctx.log.error({ err: error }, 'imap connection failed');
      this.finish('* BYE [SERVERBUG] Internal error');
    } finally {
      this.pumping = false;
    }
    if (this.reader.bufferedBytes < this.maxUnreadBytes / 2) this.client.resumeInput(PAUSED_FOR_BUFFER);
  }

  /** One reader event: the socket-free step decides (client-step.ts), this runs its actions. */
  private handle(event: CommandReaderEvent): void {
    const relay = this.relay;
    const context: StepContext = {
      state: this.sessionState,
      loggedIn: relay !== null,
      restricted: relay?.restricted ?? false,
      maxMessageSize: this.settings.maxMessageSize,
      saslTag: this.saslTag,
      append: relay?.appendInProgress() ?? null,
      multiAppend: relay?.multiAppend ?? false,
    };
    for (const action of clientStep(event, context)) {
      if (this.closed) return;
      this.run(action);
    }
  }

  private run(action: StepAction): void {
    switch (action.type) {
      case 'refuse':
        this.saslTag = null;
        if (action.refusal.reason && action.command) this.relay?.noteRefusal(action.refusal.reason, action.command);
        this.refuse(action.tag, action.refusal);
        return;
      case 'write':
        this.write(action.line);
        return;
      case 'close':
        this.finish(action.line);
        return;
      case 'collect-literal':
        // RFC 9051 §2.2.1: the client waits for this before sending a synchronizing literal.
        if (action.sync) this.write('+ Ready for literal data');
        this.reader.collectLiteral();
        return;
      case 'refuse-literal':
        this.reader.refuseLiteral();
        return;
      case 'pre-auth':
        handlePreAuthCommand(this, action.command);
        return;
      case 'sasl-response':
        this.saslTag = null;
        handleSaslResponse(this, action.tag, action.data);
        return;
      case 'relay':
        this.live?.touch();
        if (action.command.name === 'ID') this.nameClient(action.command);
        this.relay!.onCommand(action.command);
        return;
      case 'relay-append':
        this.relay!.startAppend(action.command, action.planned, action.sync);
        return;
      case 'idle-done':
        this.relay?.onIdleDone(action.valid);
        return;
      case 'append-chunk':
        this.relay!.onAppendChunk(action.data);
        return;
      case 'append-ended':
        this.relay!.onAppendEnded();
        return;
      case 'append-complete':
        this.relay!.completeAppend();
        return;
      case 'append-next':
        this.relay!.continueAppend(action.command, action.planned, action.sync);
        return;
      case 'append-cancel':
        if (action.refusal.reason && action.command) this.relay?.noteRefusal(action.refusal.reason, action.command);
        this.relay!.cancelAppend(action.refusal, action.refuseLiteral);
        return;
      case 'append-abort':
        this.relay!.destroy();
        this.finish(action.line);
        return;
    }
  }
}
