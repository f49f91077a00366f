/**
 * One APPEND's messages on their way to the store (MULTIAPPEND, RFC 3502, has several). A message is
 * never held whole: its bytes go upstream as the client sends them, and the client gets `+` (or its
 * {n+} literal is read) only once the store has asked for the message, so a store that refuses the
 * APPEND first is never sent a message.
 *
 * What makes streaming safe is the last chunk: it is held back until the command is known to end as
 * planned (only its own CRLF, or the next message's literal, may follow). If anything else follows, or a
 * later message is refused, the store's command is cancelled (cancel()): it then stores none of the
 * command's messages, as RFC 3502 §6.3.11 requires of a refused MULTIAPPEND.
 */
import type { Arg, Command } from './command-ast.js';
import type { ImapConnection } from './connection.js';
import type { Refusal } from './refusal.js';
import type { UpstreamSegment } from './serialize-command.js';

/**
 * Ends a cancelled APPEND on the store: after the last message's final bytes, a `)` no APPEND grammar
 * accepts. Dovecot answers the APPEND BAD and rolls its transaction back, so none of the command's
 * messages is stored (seen with Dovecot 2.3.19; test/gateway/imap/multiappend.test.ts checks the store).
 * It also answers the rest of that line `* BAD`; the NOOP that follows marks the end of those answers.
 */
const CANCEL_TRAILER = Buffer.from(')\r\nPOSTERN.SYNC NOOP\r\n');
const CANCEL_SYNC_TAG = 'POSTERN.SYNC';

/** The size of the last message literal of an APPEND (the one just announced). */
export function lastMessageSize(command: Command): number {
  return command.args.findLast((a): a is Extract<Arg, { type: 'streamed-literal' }> => a.type === 'streamed-literal')?.size ?? 0;
}

/** What the socket-free step (client-step.ts) needs to know while a message is read. */
export interface AppendProgress {
  /** The command as parsed when its message literal was announced; its end must parse the same. */
  readonly planned: Command;
  /** The message's bytes are all in: only the command's end or the next message may follow. */
  readonly ended: boolean;
}

export class AppendStream implements AppendProgress {
  /**
   * upstream: waiting for the store to ask for the message; literal: client bytes flowing; end: waiting
   * for the CRLF or the next message; sent: all of it went upstream. aborting: the store's command is
   * being made to fail; abort-sync: it failed, and the store's answers up to the sync NOOP are ours.
   */
  private phase: 'upstream' | 'literal' | 'end' | 'sent' | 'aborting' | 'abort-sync' = 'upstream';
  /** The last chunk, held back until the command is known to end well. */
  private held: Buffer | null = null;
  /** Messages whose bytes have begun going upstream. */
  private streamed = 0;
  /** What the client is answered once the store has dropped the cancelled APPEND. */
  private cancelRefusal: Refusal | null = null;
  /** Restricted sessions: budget bytes granted for this command's messages (see charged()). */
  private charged = 0;

  constructor(
    private readonly conn: ImapConnection,
    private readonly writeUpstream: (data: Buffer) => void,
    private plannedCommand: Command,
    private clientSync: boolean,
  ) {}

  get planned(): Command {
    return this.plannedCommand;
  }

  get ended(): boolean {
    return this.phase === 'end';
  }

  /** A message is being read: every reader event belongs to this APPEND. */
  get reading(): boolean {
    return this.phase === 'literal' || this.phase === 'end';
  }

  /** The store has not asked for the message yet: if it answers now, the APPEND failed before it. */
  get awaitingStore(): boolean {
    return this.phase === 'upstream';
  }

  /** Every byte went upstream: the store can read a LOGOUT behind it as a command. */
  get sentWhole(): boolean {
    return this.phase === 'sent';
  }

  /** The store's command is being made to fail: its tagged answers go to storeAnswered(). */
  get cancelled(): boolean {
    return this.phase === 'aborting' || this.phase === 'abort-sync';
  }

  /** The store already failed the cancelled APPEND: its `* BAD`s to the rest of the line are not relayed. */
  get syncing(): boolean {
    return this.phase === 'abort-sync';
  }

  /**
   * Budget bytes granted for this command's messages so far. A cancelled APPEND stores none of them, so
   * the relay gives these back once the store has confirmed it (src/restricted/budget.ts).
   */
  get chargedBytes(): number {
    return this.charged;
  }

  /** A message of this command was granted `bytes` from the restricted budget. */
  charge(bytes: number): void {
    this.charged += bytes;
  }

  /** The answer the client gets for a cancelled APPEND. */
  get refusal(): Refusal {
    return this.cancelRefusal!;
  }

  /** The store asked for the next message: the client may send it now. */
  messageWanted(): void {
    this.phase = 'literal';
    this.streamed++;
    if (this.clientSync) this.conn.write('+ Ready for literal data');
    this.conn.streamLiteral();
    this.conn.proceed();
  }

  /** A chunk of the message: the previous one goes upstream, this one is held back. */
  chunk(data: Buffer): void {
    if (this.held) this.writeUpstream(this.held);
    this.held = data;
  }

  messageEnded(): void {
    this.phase = 'end';
  }

  /**
   * MULTIAPPEND: a further message was announced and granted; `segments` is the whole command so far.
   * The held chunk goes upstream, and the index returned is where the new message's header begins (the
   * serialization is deterministic: everything before it already went upstream).
   */
  nextMessage(planned: Command, clientSync: boolean, segments: readonly UpstreamSegment[]): number {
    this.flushHeld();
    let next = 0;
    for (let seen = 0; seen < this.streamed; next++) if (segments[next]!.kind === 'stream') seen++;
    this.plannedCommand = planned;
    this.clientSync = clientSync;
    this.phase = 'upstream';
    return next;
  }

  /** The command's end followed the message as planned: the store gets the last bytes. */
  complete(): void {
    this.phase = 'sent';
    this.flushHeld();
  }

  /**
   * The APPEND cannot complete: the store gets the last message's final bytes and CANCEL_TRAILER, which
   * makes it fail and store nothing; once it has answered, the client gets `refusal`.
   */
  cancel(refusal: Refusal): void {
    this.phase = 'aborting';
    this.cancelRefusal = refusal;
    this.flushHeld();
    this.writeUpstream(CANCEL_TRAILER);
  }

  /**
   * A tagged answer from the store to a cancelled APPEND: first the APPEND's own (which must not be OK),
   * then the sync NOOP's. 'done' when the store is back in step; 'unreadable' when it said anything else.
   */
  storeAnswered(tag: string | null, status: string | null, commandTag: string): 'wait' | 'done' | 'unreadable' {
    if (this.phase === 'aborting') {
      if (tag !== commandTag || status === 'OK') return 'unreadable';
      this.phase = 'abort-sync';
      return 'wait';
    }
    return tag === CANCEL_SYNC_TAG ? 'done' : 'unreadable';
  }

  private flushHeld(): void {
    if (this.held) this.writeUpstream(this.held);
    this.held = null;
  }
}
