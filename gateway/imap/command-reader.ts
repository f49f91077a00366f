/**
 * Incremental framer for the client → gateway stream. It splits bytes into commands (lines and
 * literals) and knows nothing of sockets or of what commands mean: the connection pushes bytes in,
 * pulls events out, and decides about every literal.
 *
 * Pull, not callbacks: the connection stops calling `next()` while it waits (for LOGIN to finish,
 * for upstream's `+` before IDLE or a literal), so pipelined bytes stay unread until the session
 * they belong to exists, and `bufferedBytes` tells it when to pause the socket.
 */
import { DEFAULT_MAX_MESSAGE_SIZE, MAX_COMMAND_BYTES, MAX_LINE_BYTES, MAX_LITERAL_BYTES } from './limits.js';
import { CR, LF, NUL, findLiteralMarker, readTag } from './syntax.js';

/** One piece of a command, in order: text lines (CRLF and literal markers removed) and literals. */
export type CommandPart =
  | { kind: 'text'; data: Buffer }
  | { kind: 'literal'; data: Buffer }
  | { kind: 'streamed'; size: number; binary: boolean };

/** What the client announced at the end of a line; the consumer must decide before `next()`. */
export interface LiteralAnnouncement {
  /** Bytes announced; Infinity when the number does not fit a safe integer. */
  size: number;
  /** `{n}`: the client waits for `+` (or a tagged refusal) before sending the bytes. */
  sync: boolean;
  /** `~{n}` literal8 (RFC 3516). */
  binary: boolean;
  /** 0-based position of this literal among the command's literals. */
  index: number;
  /** Bytes this command already holds (lines and collected literals). */
  commandBytes: number;
}

/** Why the reader refused a line by itself; the connection answers BAD and counts it. */
export type LineRefusal = 'bare-cr' | 'bare-lf' | 'nul';

/** Limit violations that end the stream (fail closed): answer `* BYE` and close. */
export type FatalReason = 'line-too-long' | 'command-too-long' | 'literal-too-large';

export type CommandReaderEvent =
  /** A literal was announced; call collectLiteral, streamLiteral or refuseLiteral next. */
  | { type: 'literal'; literal: LiteralAnnouncement; parts: readonly CommandPart[] }
  /** Bytes of a streamed literal, in order; together exactly `size` bytes. */
  | { type: 'literal-chunk'; data: Buffer }
  | { type: 'literal-end' }
  /** A complete command: parts alternate text / literal and end with text. */
  | { type: 'command'; parts: readonly CommandPart[] }
  /** The current command was refused by framing rules; its bytes up to the next CRLF are dropped. */
  | { type: 'refused'; tag: string | null; reason: LineRefusal }
  /** The line read in IDLE mode; `valid` when it was DONE (RFC 2177 §3). */
  | { type: 'idle-done'; valid: boolean }
  /** The line read in SASL mode (RFC 9051 §6.2.2): base64 or "*", not yet checked. */
  | { type: 'sasl-response'; data: Buffer }
  | { type: 'fatal'; reason: FatalReason };

export interface CommandReaderOptions {
  maxLineBytes?: number;
  maxLiteralBytes?: number;
  maxCommandBytes?: number;
  /** Largest streamed literal (APPEND message), and largest refused `{n+}` we read and drop. */
  maxMessageSize?: number;
}

type LiteralAction = 'collect' | 'stream' | 'discard';

interface ActiveLiteral {
  action: LiteralAction;
  size: number;
  remaining: number;
  binary: boolean;
  chunks: Buffer[];
}

/**
 * Frames client commands. Lines end only at CRLF (RFC 9051 §2.2): a bare CR or LF or a NUL refuses
 * the command, because Dovecot and nginx end lines at a bare LF and would see two commands where
 * we saw one.
 */
export class CommandReader {
  private maxLineBytes: number;
  private maxLiteralBytes: number;
  private maxCommandBytes: number;
  private readonly maxMessageSize: number;

  private queue: Buffer[] = [];
  private queueOffset = 0;
  private queued = 0;

  private mode: 'command' | 'idle' | 'sasl' = 'command';
  /** The store ended an IDLE on its own: a DONE the client sends anyway is dropped (see endIdle). */
  private dropNextDone = false;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private sawCR = false;
  private badLine: LineRefusal | null = null;
  private parts: CommandPart[] = [];
  private commandBytes = 0;
  private literalCount = 0;
  /** Set once a literal was refused: the rest of the command is framed and dropped. */
  private discarding = false;
  private pending: LiteralAnnouncement | null = null;
  private literal: ActiveLiteral | null = null;
  private fatal: FatalReason | null = null;
  private fatalReported = false;

  constructor(options: CommandReaderOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.maxLiteralBytes = options.maxLiteralBytes ?? MAX_LITERAL_BYTES;
    this.maxCommandBytes = options.maxCommandBytes ?? MAX_COMMAND_BYTES;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** New size limits (tighter before login, the full ones after): they apply from the next line on. */
  setLimits(limits: Pick<CommandReaderOptions, 'maxLineBytes' | 'maxLiteralBytes' | 'maxCommandBytes'>): void {
    this.maxLineBytes = limits.maxLineBytes ?? this.maxLineBytes;
    this.maxLiteralBytes = limits.maxLiteralBytes ?? this.maxLiteralBytes;
    this.maxCommandBytes = limits.maxCommandBytes ?? this.maxCommandBytes;
  }

  /** Bytes pushed but not yet read; pause the socket when this grows past a line or two. */
  get bufferedBytes(): number {
    return this.queued;
  }

  /** True between commands: no partial line, literal or pending decision. */
  get atCommandBoundary(): boolean {
    return this.parts.length === 0 && this.lineBytes === 0 && !this.sawCR && this.badLine === null
      && this.literal === null && this.pending === null && !this.discarding;
  }

  /** Appends bytes from the socket. Nothing is parsed until `next()`. */
  push(chunk: Buffer): void {
    if (this.fatal || chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  /**
   * Drops every unread byte and any partial command. For STARTTLS: bytes sent before the TLS
   * handshake must never run inside it (nginx CVE-2014-3556, Dovecot CVE-2021-33515).
   */
  discardBuffered(): void {
    this.queue = [];
    this.queueOffset = 0;
    this.queued = 0;
    this.mode = 'command';
    this.dropNextDone = false;
    this.resetCommand();
  }

  /** After the connection has sent `+ idling`: the next line must be DONE (RFC 2177 §3). */
  enterIdle(): void {
    this.enterLineMode('idle');
  }

  /**
   * The store ended the IDLE itself (its tagged answer came before any DONE): lines are commands again.
   * A client that had not seen that answer yet still sends DONE: that one line is dropped, not taken
   * for a command, and anything else is read as the command it is.
   */
  endIdle(): void {
    if (this.mode !== 'idle') return;
    this.mode = 'command';
    this.dropNextDone = true;
  }

  /** After the connection has sent a SASL `+` challenge: the next line is the client's response. */
  expectSaslResponse(): void {
    this.enterLineMode('sasl');
  }

  /** Keep the announced literal in memory; it becomes a `literal` part of the command. */
  collectLiteral(): void {
    const lit = this.takePending();
    if (lit.size > this.maxLiteralBytes || this.commandBytes + lit.size > this.maxCommandBytes) {
      throw new RangeError(`literal of ${lit.size} bytes exceeds the collect limits`);
    }
    this.commandBytes += lit.size;
    this.startLiteral('collect', lit);
  }

  /** Pass the announced literal on as `literal-chunk` events; the command gets a `streamed` part. */
  streamLiteral(): void {
    const lit = this.takePending();
    if (lit.size > this.maxMessageSize) throw new RangeError(`literal of ${lit.size} bytes exceeds maxMessageSize`);
    this.startLiteral('stream', lit);
  }

  /**
   * Refuse the announced literal (the connection answers the tag with NO or BAD). A synchronizing
   * literal will not come (RFC 9051 §2.2.1), so the command simply ends. A non-synchronizing one is
   * already on its way: its bytes and the rest of the command are read and dropped, or they would
   * be taken for commands.
   */
  refuseLiteral(): void {
    const lit = this.takePending();
    if (lit.sync) {
      this.resetCommand();
      return;
    }
    this.discarding = true;
    if (lit.size > this.maxMessageSize) this.fail('literal-too-large');
    else this.startLiteral('discard', lit);
  }

  /** The next event, or null when more bytes are needed. */
  next(): CommandReaderEvent | null {
    if (this.pending) throw new Error('CommandReader: decide the announced literal before next()');
    for (;;) {
      if (this.fatal) {
        if (this.fatalReported) return null;
        this.fatalReported = true;
        return { type: 'fatal', reason: this.fatal };
      }
      if (this.literal) {
        const event = this.readLiteral();
        if (event === 'need-more') return null;
        if (event) return event;
        continue;
      }
      const event = this.readLine();
      if (event === 'need-more') return null;
      if (event) return event;
    }
  }

  private enterLineMode(mode: 'idle' | 'sasl'): void {
    if (!this.atCommandBoundary || this.mode !== 'command') throw new Error(`CommandReader: cannot enter ${mode} mode mid-command`);
    this.mode = mode;
    this.dropNextDone = false;
  }

  private takePending(): LiteralAnnouncement {
    const lit = this.pending;
    if (!lit) throw new Error('CommandReader: no literal is waiting for a decision');
    this.pending = null;
    return lit;
  }

  private startLiteral(action: LiteralAction, lit: LiteralAnnouncement): void {
    this.literal = { action, size: lit.size, remaining: lit.size, binary: lit.binary, chunks: [] };
  }

  private fail(reason: FatalReason): void {
    this.fatal = reason;
    this.queue = [];
    this.queued = 0;
    this.queueOffset = 0;
  }

  private resetCommand(): void {
    this.line = [];
    this.lineBytes = 0;
    this.sawCR = false;
    this.badLine = null;
    this.parts = [];
    this.commandBytes = 0;
    this.literalCount = 0;
    this.discarding = false;
    this.pending = null;
    this.literal = null;
  }

  /** Takes up to `max` bytes from the head of the queue without copying. */
  private take(max: number): Buffer | null {
    const head = this.queue[0];
    if (!head) return null;
    const n = Math.min(max, head.length - this.queueOffset);
    const slice = head.subarray(this.queueOffset, this.queueOffset + n);
    this.consume(n);
    return slice;
  }

  private consume(n: number): void {
    this.queueOffset += n;
    this.queued -= n;
    if (this.queueOffset >= this.queue[0]!.length) {
      this.queue.shift();
      this.queueOffset = 0;
    }
  }

  private readLiteral(): CommandReaderEvent | 'need-more' | null {
    const lit = this.literal!;
    if (lit.remaining === 0) {
      this.literal = null;
      if (lit.action === 'collect') this.parts.push({ kind: 'literal', data: Buffer.concat(lit.chunks, lit.size) });
      if (lit.action === 'stream') {
        this.parts.push({ kind: 'streamed', size: lit.size, binary: lit.binary });
        return { type: 'literal-end' };
      }
      return null;
    }
    const data = this.take(lit.remaining);
    if (!data) return 'need-more';
    lit.remaining -= data.length;
    if (lit.action === 'collect') lit.chunks.push(Buffer.from(data));
    if (lit.action === 'stream') return { type: 'literal-chunk', data };
    return null;
  }

  /** Scans line bytes until CRLF; returns an event, null to loop, or 'need-more'. */
  private readLine(): CommandReaderEvent | 'need-more' | null {
    const head = this.queue[0];
    if (!head) return 'need-more';
    if (this.sawCR) {
      this.sawCR = false;
      if (head[this.queueOffset] === LF) {
        this.consume(1);
        return this.endLine();
      }
      // The byte after CR is left unread: it belongs to the (now refused) line.
      return this.markBad('bare-cr');
    }
    let i = this.queueOffset;
    while (i < head.length) {
      const b = head[i]!;
      if (b === CR || b === LF || b === NUL) break;
      i++;
    }
    const run = i - this.queueOffset;
    // +2 so that the limit counts the CRLF, as RFC 7162 §4 counts line length.
    if (this.lineBytes + run + 2 > this.maxLineBytes) {
      this.fail('line-too-long');
      return null;
    }
    if (this.mode === 'command' && !this.badLine && this.commandBytes + run > this.maxCommandBytes) {
      this.fail('command-too-long');
      return null;
    }
    if (run > 0) {
      // Copied: a subarray would keep the socket's whole chunk alive for the life of the line.
      if (!this.badLine) this.line.push(Buffer.from(head.subarray(this.queueOffset, i)));
      this.lineBytes += run;
      if (this.mode === 'command' && !this.badLine) this.commandBytes += run;
      this.consume(run);
    }
    if (i === head.length) return null;
    const b = head[i]!;
    this.consume(1);
    if (b === CR) {
      this.sawCR = true;
      return null;
    }
    return this.markBad(b === LF ? 'bare-lf' : 'nul');
  }

  private markBad(reason: LineRefusal): CommandReaderEvent | null {
    this.lineBytes += 1;
    if (this.badLine) return null;
    this.badLine = reason;
    if (this.mode !== 'command' || this.discarding) return null;
    const first = this.parts[0]?.kind === 'text' ? this.parts[0].data : Buffer.concat(this.line);
    this.line = [];
    return { type: 'refused', tag: readTag(first), reason };
  }

  private endLine(): CommandReaderEvent | null {
    const text = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line);
    const bad = this.badLine;
    const mode = this.mode;
    this.line = [];
    this.lineBytes = 0;
    this.badLine = null;
    const isDone = !bad && text.length === 4 && text.toString('latin1').toUpperCase() === 'DONE';
    if (this.parts.length === 0 && this.dropNextDone) {
      this.dropNextDone = false;
      if (isDone) return null;
    }
    if (mode !== 'command') {
      this.mode = 'command';
      if (mode === 'idle') return { type: 'idle-done', valid: isDone };
      return bad ? { type: 'refused', tag: null, reason: bad } : { type: 'sasl-response', data: text };
    }
    if (bad) {
      // The refusal was reported when the bad byte arrived; the command ends with this line.
      this.resetCommand();
      return null;
    }
    const marker = findLiteralMarker(text);
    if (!marker) {
      if (this.discarding) {
        this.resetCommand();
        return null;
      }
      this.parts.push({ kind: 'text', data: text });
      const parts = this.parts;
      this.resetCommand();
      return { type: 'command', parts };
    }
    if (this.discarding) {
      if (marker.sync) this.resetCommand();
      else if (marker.size > this.maxMessageSize) this.fail('literal-too-large');
      else this.startLiteral('discard', { ...marker, index: 0, commandBytes: 0 });
      return null;
    }
    this.parts.push({ kind: 'text', data: text.subarray(0, marker.start) });
    this.pending = {
      size: marker.size,
      sync: marker.sync,
      binary: marker.binary,
      index: this.literalCount++,
      commandBytes: this.commandBytes,
    };
    return { type: 'literal', literal: this.pending, parts: this.parts.slice() };
  }
}
