/**
 * Incremental framer for the upstream → gateway stream. It frames responses by their literal
 * counts, so a message whose text contains `\r\n* CAPABILITY … COMPRESS=DEFLATE` or `\r\nA1 OK` is
 * passed through as literal bytes, never read as protocol. Literal bytes are streamed (a 50 MB
 * FETCH is never held) and over-long lines are passed on in pieces, so memory stays bounded.
 *
 * The relay writes every `response`/`text` event's `text` (followed by CRLF unless `end` is
 * 'partial') and every `literal-chunk` as is; it rewrites only capability text.
 */
import { MAX_RESPONSE_LINE_PIECE_BYTES } from './limits.js';
import { CR, LF, SP, findLiteralMarker, isTagChar } from './syntax.js';

export type ResponseKind = 'untagged' | 'continuation' | 'tagged' | 'malformed';
export type ResponseStatus = 'OK' | 'NO' | 'BAD' | 'PREAUTH' | 'BYE';

export interface ResponseHead {
  kind: ResponseKind;
  /** Tag of a tagged response. Tags may repeat, so match completions by order, not by tag alone. */
  tag: string | null;
  /** OK/NO/BAD of a tagged response; OK/NO/BAD/PREAUTH/BYE of an untagged status response. */
  status: ResponseStatus | null;
  /** Upper-case name of the response: the status, or the data name (CAPABILITY, FETCH, EXISTS). */
  keyword: string | null;
}

/** How a piece of response text ends: the response is complete, a literal follows, or more text follows. */
export type LineEnd = 'response-end' | 'literal' | 'partial';

export type ResponseEvent =
  /** The first text of a response (CRLF removed; a literal marker, if any, kept). */
  | { type: 'response'; head: ResponseHead; text: Buffer; end: LineEnd; literalSize: number | null }
  /** More text of the current response: after a literal, or the next piece of a long line. */
  | { type: 'text'; text: Buffer; end: LineEnd; literalSize: number | null }
  | { type: 'literal-chunk'; data: Buffer }
  | { type: 'literal-end' }
  /** The stream cannot be framed safely; close both sides. */
  | { type: 'fatal'; reason: 'bare-cr' | 'bare-lf' | 'literal-too-large' };

export interface ResponseReaderOptions {
  /** Largest piece of line text delivered at once (at least 256). */
  maxPieceBytes?: number;
}

/**
 * Bytes of a long line held back from each piece so that a literal marker at the end of the line
 * is always seen whole: `~{` + 16 digits + `+}` is 21 bytes.
 */
const MARKER_HOLDBACK = 64;
const STATUSES = new Set<string>(['OK', 'NO', 'BAD', 'PREAUTH', 'BYE']);

/** Classifies a response from the start of its first line (RFC 9051 §7, §9 `response`). */
export function classifyResponse(text: Buffer): ResponseHead {
  const malformed: ResponseHead = { kind: 'malformed', tag: null, status: null, keyword: null };
  if (text[0] === 0x2b && (text.length === 1 || text[1] === SP)) return { kind: 'continuation', tag: null, status: null, keyword: null };
  const words = text.toString('latin1', 0, Math.min(text.length, 200)).split(' ');
  if (words[0] === '*') {
    const numbered = /^\d+$/.test(words[1] ?? '');
    const keyword = (numbered ? words[2] : words[1])?.toUpperCase() || null;
    const status = !numbered && keyword && STATUSES.has(keyword) ? (keyword as ResponseStatus) : null;
    return keyword ? { kind: 'untagged', tag: null, status, keyword } : malformed;
  }
  const tag = words[0] ?? '';
  const status = words[1]?.toUpperCase();
  if (tag === '' || ![...tag].every((c) => isTagChar(c.charCodeAt(0)))) return malformed;
  if (status !== 'OK' && status !== 'NO' && status !== 'BAD') return malformed;
  return { kind: 'tagged', tag, status, keyword: status };
}

/** Frames upstream responses: push bytes in, pull events out. */
export class ResponseReader {
  private readonly maxPieceBytes: number;
  private queue: Buffer[] = [];
  private queueOffset = 0;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private sawCR = false;
  /** Head of the response being read, from its first piece; null between responses. */
  private head: ResponseHead | null = null;
  private headReported = false;
  private mayHaveLiteral = false;
  private literalRemaining: number | null = null;
  private fatal: 'bare-cr' | 'bare-lf' | 'literal-too-large' | null = null;
  private fatalReported = false;

  constructor(options: ResponseReaderOptions = {}) {
    this.maxPieceBytes = Math.max(256, options.maxPieceBytes ?? MAX_RESPONSE_LINE_PIECE_BYTES);
  }

  /** Bytes pushed but not yet read; pause upstream when this grows. */
  get bufferedBytes(): number {
    return this.queue.reduce((n, b) => n + b.length, 0) - this.queueOffset;
  }

  /** Everything pushed has been read and no response is half-read: the stream is between responses. */
  get atBoundary(): boolean {
    return this.bufferedBytes === 0 && this.head === null && this.lineBytes === 0 && this.literalRemaining === null && !this.sawCR && !this.fatal;
  }

  push(chunk: Buffer): void {
    if (!this.fatal && chunk.length > 0) this.queue.push(chunk);
  }

  /** The next event, or null when more bytes are needed. */
  next(): ResponseEvent | null {
    for (;;) {
      if (this.fatal) {
        if (this.fatalReported) return null;
        this.fatalReported = true;
        return { type: 'fatal', reason: this.fatal };
      }
      const head = this.queue[0];
      if (this.literalRemaining !== null) {
        if (this.literalRemaining === 0) {
          this.literalRemaining = null;
          return { type: 'literal-end' };
        }
        if (!head) return null;
        const n = Math.min(this.literalRemaining, head.length - this.queueOffset);
        const data = head.subarray(this.queueOffset, this.queueOffset + n);
        this.consume(n);
        this.literalRemaining -= n;
        return { type: 'literal-chunk', data };
      }
      if (!head) return null;
      if (this.sawCR) {
        this.sawCR = false;
        if (head[this.queueOffset] !== LF) {
          this.fatal = 'bare-cr';
          continue;
        }
        this.consume(1);
        return this.finishLine();
      }
      const limit = Math.min(head.length, this.queueOffset + (this.maxPieceBytes - this.lineBytes));
      let i = this.queueOffset;
      while (i < limit && head[i] !== CR && head[i] !== LF) i++;
      if (i > this.queueOffset) {
        // Copied: a subarray would keep the socket's whole chunk alive for the life of the line.
        this.line.push(Buffer.from(head.subarray(this.queueOffset, i)));
        this.lineBytes += i - this.queueOffset;
      }
      const stop = i < head.length ? head[i] : undefined;
      this.consume(i - this.queueOffset);
      if (this.lineBytes >= this.maxPieceBytes) return this.flushPiece();
      if (stop === CR) {
        this.consume(1);
        this.sawCR = true;
      } else if (stop === LF) {
        // A bare LF ends a line for many clients: passing it on could show them a line we never saw.
        this.fatal = 'bare-lf';
      }
    }
  }

  private consume(n: number): void {
    if (n === 0) return;
    this.queueOffset += n;
    if (this.queueOffset >= this.queue[0]!.length) {
      this.queue.shift();
      this.queueOffset = 0;
    }
  }

  private takeLine(): Buffer {
    const text = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line);
    this.line = [];
    this.lineBytes = 0;
    return text;
  }

  /** Emits most of an over-long line, keeping the tail in case it ends in a literal marker. */
  private flushPiece(): ResponseEvent {
    const all = this.takeLine();
    const keep = all.subarray(all.length - MARKER_HOLDBACK);
    this.line = [keep];
    this.lineBytes = keep.length;
    return this.emit(all.subarray(0, all.length - MARKER_HOLDBACK), 'partial', null);
  }

  private finishLine(): ResponseEvent {
    const text = this.takeLine();
    if (!this.head) this.startResponse(text);
    // Status responses and continuations end in resp-text, which has no literals (RFC 9051 §9):
    // a NO that echoes a mailbox name ending in "{5}" must not swallow the next 5 bytes.
    const marker = this.mayHaveLiteral ? findLiteralMarker(text) : null;
    if (!marker) return this.emit(text, 'response-end', null);
    if (!Number.isFinite(marker.size)) {
      this.fatal = 'literal-too-large';
      return this.next()!;
    }
    this.literalRemaining = marker.size;
    return this.emit(text, 'literal', marker.size);
  }

  private startResponse(text: Buffer): void {
    this.head = classifyResponse(text);
    this.mayHaveLiteral = this.head.kind === 'untagged' && this.head.status === null;
  }

  /** The first piece of a response carries its head; `response-end` forgets it. */
  private emit(text: Buffer, end: LineEnd, literalSize: number | null): ResponseEvent {
    let event: ResponseEvent;
    if (this.head && this.headReported) {
      event = { type: 'text', text, end, literalSize };
    } else {
      if (!this.head) this.startResponse(text);
      event = { type: 'response', head: this.head!, text, end, literalSize };
      this.headReported = true;
    }
    if (end === 'response-end') {
      this.head = null;
      this.headReported = false;
    }
    return event;
  }
}
