/**
 * Re-emits a parsed command for the upstream. Rebuilt from the parse, never copied from the
 * client: atoms are re-checked against the atom grammar, strings become quoted strings or literals
 * (never atoms), so no byte the client chose reaches the store uninterpreted.
 */
import type { Arg, Command } from './command-ast.js';
import { LITERAL_MINUS_MAX, MAX_QUOTED_STRING_BYTES } from './limits.js';
import { BACKSLASH, NUL, isBareChar, isTagChar } from './syntax.js';

/** What the connection sends upstream, in order. */
export type UpstreamSegment =
  | { kind: 'bytes'; data: Buffer }
  /** A synchronizing literal header was just sent: wait for upstream's `+` (RFC 9051 §2.2.1). */
  | { kind: 'await-continuation' }
  /** Send exactly `size` bytes of the client's streamed literal here. */
  | { kind: 'stream'; size: number; binary: boolean };

export interface SerializeOptions {
  /**
   * Largest literal upstream takes without a continuation: 0 when it has neither LITERAL+ nor
   * LITERAL-, 4096 for LITERAL- (RFC 7888 §5, and every IMAP4rev2 server), Infinity for LITERAL+.
   */
  nonSyncLiteralMax: number;
}

/** The nonSyncLiteralMax that upstream's capability list allows. */
export function nonSyncLiteralMaxFor(capabilities: readonly string[]): number {
  const caps = new Set(capabilities.map((c) => c.toUpperCase()));
  if (caps.has('LITERAL+')) return Infinity;
  if (caps.has('LITERAL-') || caps.has('IMAP4REV2')) return LITERAL_MINUS_MAX;
  return 0;
}

class SegmentWriter {
  readonly segments: UpstreamSegment[] = [];
  private text: Buffer[] = [];

  constructor(private readonly options: SerializeOptions) {}

  write(text: string | Buffer): void {
    this.text.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Writes a literal header and, for a synchronizing one, the wait for `+`. */
  literalHeader(size: number, binary: boolean): void {
    const nonSync = size <= this.options.nonSyncLiteralMax;
    this.write(`${binary ? '~' : ''}{${size}${nonSync ? '+' : ''}}\r\n`);
    if (!nonSync) this.push({ kind: 'await-continuation' });
  }

  push(segment: UpstreamSegment): void {
    this.flush();
    this.segments.push(segment);
  }

  flush(): void {
    if (this.text.length > 0) this.segments.push({ kind: 'bytes', data: Buffer.concat(this.text) });
    this.text = [];
  }
}

function assertBare(value: string, what: string): void {
  const ok = value !== '\\' && value.length > 0 && [...value].every((c, i) => {
    const b = c.charCodeAt(0);
    return isBareChar(b) || b === 0x5b || (i === 0 && b === BACKSLASH);
  });
  if (!ok) throw new Error(`serialize: unsafe ${what} ${JSON.stringify(value)}`);
}

/** Quoted only when every byte is printable ASCII; anything else goes as a literal. */
function canQuote(value: Buffer): boolean {
  if (value.length > MAX_QUOTED_STRING_BYTES) return false;
  for (const b of value) if (b < 0x20 || b > 0x7e) return false;
  return true;
}

function writeString(out: SegmentWriter, value: Buffer): void {
  if (canQuote(value)) {
    out.write(`"${value.toString('latin1').replace(/[\\"]/g, (c) => `\\${c}`)}"`);
    return;
  }
  // A non-binary literal cannot carry NUL (RFC 9051 §9 CHAR8); the parser never produces one.
  if (value.includes(NUL)) throw new Error('serialize: NUL in string');
  out.literalHeader(value.length, false);
  out.write(value);
}

function writeArg(out: SegmentWriter, arg: Arg): void {
  switch (arg.type) {
    case 'atom':
    case 'number':
    case 'sequence-set':
      assertBare(arg.value, arg.type);
      out.write(arg.value);
      return;
    case 'nil':
      out.write('NIL');
      return;
    case 'string':
      writeString(out, arg.value);
      return;
    case 'streamed-literal':
      out.literalHeader(arg.size, arg.binary);
      out.push({ kind: 'stream', size: arg.size, binary: arg.binary });
      return;
    case 'list':
      out.write('(');
      writeArgs(out, arg.items);
      out.write(')');
      return;
    case 'section':
      if (!/^[A-Z0-9.]+$/i.test(arg.name) || !/^[A-Z0-9.]*$/i.test(arg.section) || !/^(?:<\d+(?:\.\d+)?>)?$/.test(arg.partial)) {
        throw new Error('serialize: unsafe section');
      }
      out.write(`${arg.name}[${arg.section} (`);
      writeArgs(out, arg.fields);
      out.write(`)]${arg.partial}`);
      return;
  }
}

function writeArgs(out: SegmentWriter, args: readonly Arg[]): void {
  args.forEach((arg, i) => {
    if (i > 0) out.write(' ');
    writeArg(out, arg);
  });
}

/**
 * Serializes a command for upstream as segments: bytes to send, waits for `+` after each
 * synchronizing literal, and the place where a streamed message goes. Throws on a value the parser
 * could never have produced (a bug, not client input).
 */
export function serializeCommand(command: Command, options: SerializeOptions): UpstreamSegment[] {
  const out = new SegmentWriter(options);
  if (command.tag === '' || ![...command.tag].every((c) => isTagChar(c.charCodeAt(0)))) {
    throw new Error('serialize: unsafe tag');
  }
  if (!/^[A-Z]+(?: [A-Z]+)?$/.test(command.name)) throw new Error('serialize: unsafe command name');
  out.write(`${command.tag} ${command.name}`);
  for (const arg of command.args) {
    out.write(' ');
    writeArg(out, arg);
  }
  out.write('\r\n');
  out.flush();
  return out.segments;
}

/** Joins segments into one buffer, for commands without streamed literals (tests, logging). */
export function segmentsToBuffer(segments: readonly UpstreamSegment[]): Buffer {
  return Buffer.concat(segments.flatMap((s) => {
    if (s.kind === 'stream') throw new Error('segmentsToBuffer: command has a streamed literal');
    return s.kind === 'bytes' ? [s.data] : [];
  }));
}
