/**
 * Parses one complete client command (as framed by command-reader.ts) into a Command. Pure: bytes
 * in, a value out, so each hostile input is a one-line test. A command that does not parse is
 * answered BAD and never forwarded: a command the gateway did not fully understand could mean
 * something else to the store (docs/imap-security.md, "Parser traps").
 */
import { isUtf8 } from 'node:buffer';
import type { CommandPart } from './command-reader.js';
import type { Arg, Command } from './command-ast.js';
import type { Refusal } from './refusal.js';
import { type CommandSpec, checkArguments, findCommand } from './command-table.js';
import { MAX_LIST_DEPTH } from './limits.js';
import { BACKSLASH, CR, DQUOTE, LF, NUL, SP, isAstringChar, isBareChar, isTagChar } from './syntax.js';

/** A command that does not parse: always a BAD. `tag` is null when the line has no valid tag (`* BAD`). */
export interface ParseFailure {
  ok: false;
  tag: string | null;
  refusal: Refusal & { status: 'BAD' };
}

export type ParseResult = { ok: true; command: Command; spec: CommandSpec } | ParseFailure;

/** Where an announced literal falls in the command so far (see literal-plan.ts). */
export type LiteralContext = { ok: true; tag: string; spec: CommandSpec; depth: number; argIndex: number } | ParseFailure;

function parseFailure(tag: string | null, text: string, code: string | null = null): ParseFailure {
  return { ok: false, tag, refusal: { status: 'BAD', code, text } };
}

const END = -1;
const LIT = -2;
const OPEN = 0x28;
const CLOSE = 0x29;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const SEQUENCE_SET = /^(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*$/;
const SECTION_NAME = /^[A-Z0-9.]+$/i;
const SECTION_TEXT = /^[A-Z0-9.]*$/i;
const HEADER_FIELDS = /(?:^|\.)HEADER\.FIELDS(?:\.NOT)?$/i;
const PARTIAL = /^(?:<\d+(?:\.\d+)?>)?$/;

class ParseError extends Error {
  constructor(message: string, readonly code: string | null = null) {
    super(message);
  }
}

/** Thrown when the probe literal of inspectLiteralContext is reached. */
class ProbeReached {
  constructor(readonly depth: number, readonly argIndex: number) {}
}

type NonText = Exclude<CommandPart, { kind: 'text' }>;

/** Reads the parts as one byte stream in which literals are single tokens. */
class Cursor {
  private readonly texts: Buffer[] = [];
  private readonly literals: NonText[] = [];
  private i = 0;
  private pos = 0;

  constructor(parts: readonly CommandPart[], private readonly probe: NonText | null) {
    // Normalized to text (literal text)*, so a literal always sits between two texts.
    let text: Buffer[] = [];
    for (const part of parts) {
      if (part.kind === 'text') text.push(part.data);
      else {
        this.texts.push(Buffer.concat(text));
        this.literals.push(part);
        text = [];
      }
    }
    this.texts.push(Buffer.concat(text));
  }

  peek(): number {
    const text = this.texts[this.i]!;
    if (this.pos < text.length) return text[this.pos]!;
    return this.i < this.literals.length ? LIT : END;
  }

  advance(): void {
    this.pos++;
  }

  takeLiteral(depth: number, argIndex: number): NonText {
    const literal = this.literals[this.i]!;
    if (literal === this.probe) throw new ProbeReached(depth, argIndex);
    this.i++;
    this.pos = 0;
    return literal;
  }

  /** Reads the run of bytes that satisfy `accept`, as latin1 (only ASCII ever passes). */
  readRun(accept: (b: number) => boolean): string {
    let s = '';
    for (let b = this.peek(); b >= 0 && accept(b); b = this.peek()) {
      s += String.fromCharCode(b);
      this.pos++;
    }
    return s;
  }
}

function classifyBare(text: string): Arg {
  if (/^nil$/i.test(text)) return { type: 'nil' };
  if (/^\d+$/.test(text)) return { type: 'number', value: text };
  if (text === '$' || SEQUENCE_SET.test(text)) return { type: 'sequence-set', value: text };
  return { type: 'atom', value: text };
}

class CommandParser {
  tag: string | null = null;

  constructor(private readonly cur: Cursor) {}

  parseHead(): CommandSpec {
    const tag = this.cur.readRun(isTagChar);
    if (tag === '' || this.cur.peek() !== SP) throw new ParseError('Missing or invalid tag');
    this.tag = tag;
    this.cur.advance();
    let name = this.cur.readRun(isBareChar).toUpperCase();
    // UID is a prefix, not a command (RFC 9051 §6.4.9); the table names its forms "UID FETCH" etc.
    if (name === 'UID' && this.cur.peek() === SP) {
      this.cur.advance();
      name = `UID ${this.cur.readRun(isBareChar).toUpperCase()}`;
    }
    const spec = /^[A-Z]+(?: [A-Z]+)?$/.test(name) ? findCommand(name) : null;
    if (!spec) throw new ParseError('Unknown command');
    return spec;
  }

  /** Arguments as a small state machine over tokens: exactly one SP between them (RFC 9051 §9). */
  parseArgs(): Arg[] {
    const root: Arg[] = [];
    const stack: Arg[][] = [root];
    let state: 'after' | 'arg' | 'arg-or-close' = 'after';
    for (;;) {
      const b = this.cur.peek();
      const top = stack[stack.length - 1]!;
      if (state === 'after') {
        if (b === END) {
          if (stack.length > 1) throw new ParseError('Unclosed list');
          return root;
        }
        if (b === SP) state = 'arg';
        else if (b === CLOSE && stack.length > 1) stack.pop();
        else throw new ParseError(b === LIT ? 'Missing space before literal' : 'Expected space');
        this.cur.advance();
        continue;
      }
      if (b === CLOSE && state === 'arg-or-close') {
        this.cur.advance();
        stack.pop();
        state = 'after';
      } else if (b === OPEN) {
        // Bounded nesting: Dovecot CVE-2026-27857 exhausted memory with parentheses.
        if (stack.length > MAX_LIST_DEPTH) throw new ParseError('Too deeply nested', 'LIMIT');
        this.cur.advance();
        const list: Arg = { type: 'list', items: [] };
        top.push(list);
        stack.push(list.items);
        state = 'arg-or-close';
      } else {
        // argIndex: the top-level argument this value is, or is inside of.
        top.push(this.readValue(stack.length - 1, stack.length > 1 ? root.length - 1 : root.length));
        state = 'after';
      }
    }
  }

  private readValue(depth: number, argIndex: number): Arg {
    const b = this.cur.peek();
    if (b === LIT) return this.readLiteral(depth, argIndex);
    if (b === DQUOTE) return this.readQuoted();
    if (b === BACKSLASH || b === LBRACKET || isBareChar(b)) return this.readBare(depth, argIndex);
    if (b === END) throw new ParseError('Missing argument');
    if (b === SP) throw new ParseError('Unexpected space');
    throw new ParseError(`Unexpected character 0x${b.toString(16).padStart(2, '0')}`);
  }

  private readLiteral(depth: number, argIndex: number): Arg {
    const literal = this.cur.takeLiteral(depth, argIndex);
    if (literal.kind === 'streamed') {
      if (depth > 0) throw new ParseError('A message literal must be a top-level argument');
      return { type: 'streamed-literal', size: literal.size, binary: literal.binary };
    }
    // literal = "{" number64 ["+"] "}" CRLF *CHAR8, and CHAR8 excludes NUL (RFC 9051 §9).
    if (literal.data.includes(NUL)) throw new ParseError('NUL in literal');
    return { type: 'string', value: literal.data };
  }

  /** Quoted strings: only \" and \\ escape; CR, LF and NUL never appear (RFC 9051 §4.3). */
  private readQuoted(): Arg {
    this.cur.advance();
    const bytes: number[] = [];
    let eightBit = false;
    for (;;) {
      let b = this.cur.peek();
      if (b === DQUOTE) break;
      if (b === BACKSLASH) {
        this.cur.advance();
        b = this.cur.peek();
        if (b !== DQUOTE && b !== BACKSLASH) throw new ParseError('Invalid escape in quoted string');
      } else if (b < 0) {
        throw new ParseError('Unterminated quoted string');
      } else if (b === CR || b === LF || b === NUL) {
        throw new ParseError('Invalid character in quoted string');
      }
      if (b >= 0x80) eightBit = true;
      bytes.push(b);
      this.cur.advance();
    }
    this.cur.advance();
    const value = Buffer.from(bytes);
    // 8-bit text is valid only as UTF-8 (RFC 9051 §4.3, IMAP4rev2's QUOTED-CHAR).
    if (eightBit && !isUtf8(value)) throw new ParseError('Quoted string is not UTF-8');
    return { type: 'string', value };
  }

  /**
   * A bare token. "[" opens a bracket: `BODY[1.2]`, `[Gmail]/Sent` (RFC 9051 allows "[" in atoms
   * and "]" in astrings). A space after HEADER.FIELDS inside the bracket starts a header list,
   * which makes the token a section (`BODY.PEEK[HEADER.FIELDS (From To)]<0.100>`, RFC 9051 §6.4.5).
   */
  private readBare(depth: number, argIndex: number): Arg {
    let text = '';
    if (this.cur.peek() === BACKSLASH) {
      this.cur.advance();
      text = '\\';
      if (!isBareChar(this.cur.peek())) throw new ParseError('Invalid flag');
    }
    let section: { name: string; section: string; fields: Arg[] } | null = null;
    let partial = '';
    for (;;) {
      const run = this.cur.readRun(isBareChar);
      if (section) partial += run;
      else text += run;
      if (this.cur.peek() !== LBRACKET) break;
      if (section) throw new ParseError('Unexpected "["');
      this.cur.advance();
      const inner = this.cur.readRun((b) => isBareChar(b) && b !== RBRACKET);
      const next = this.cur.peek();
      // section-msgtext: only HEADER.FIELDS[.NOT] is followed by SP and a header list.
      if (next === SP && HEADER_FIELDS.test(inner)) {
        this.cur.advance();
        if (this.cur.peek() !== OPEN) throw new ParseError('Expected a header list');
        this.cur.advance();
        section = { name: text, section: inner, fields: this.readFieldList(depth + 1, argIndex) };
        if (this.cur.peek() !== RBRACKET) throw new ParseError('Missing "]"');
      } else if (next !== RBRACKET) {
        // An unbalanced "[" is still an ATOM-CHAR (a mailbox "foo[bar").
        text += `[${inner}`;
        continue;
      } else {
        text += `[${inner}]`;
      }
      this.cur.advance();
    }
    if (!section) return classifyBare(text);
    if (!SECTION_NAME.test(section.name) || !SECTION_TEXT.test(section.section) || !PARTIAL.test(partial)) {
      throw new ParseError('Invalid section');
    }
    return { type: 'section', ...section, partial };
  }

  /** header-list = "(" header-fld-name *(SP header-fld-name) ")", each an astring. */
  private readFieldList(depth: number, argIndex: number): Arg[] {
    if (depth > MAX_LIST_DEPTH) throw new ParseError('Too deeply nested', 'LIMIT');
    const fields: Arg[] = [];
    if (this.cur.peek() === CLOSE) throw new ParseError('Empty header list');
    for (;;) {
      const b = this.cur.peek();
      if (b === LIT) fields.push(this.readLiteral(depth, argIndex));
      else if (b === DQUOTE) fields.push(this.readQuoted());
      else {
        const atom = this.cur.readRun(isAstringChar);
        if (atom === '') throw new ParseError('Invalid header name');
        fields.push(classifyBare(atom));
      }
      const next = this.cur.peek();
      this.cur.advance();
      if (next === CLOSE) return fields;
      if (next !== SP) throw new ParseError('Invalid header list');
    }
  }
}

function failure(parser: CommandParser, error: unknown): ParseFailure {
  if (error instanceof ParseError) return parseFailure(parser.tag, error.message, error.code);
  throw error;
}

/**
 * Parses a complete command: tag, name (with the UID prefix folded in), arguments, then checks the
 * arguments against the command table. Unknown commands and arguments to commands that take
 * none are failures.
 */
export function parseCommand(parts: readonly CommandPart[]): ParseResult {
  const parser = new CommandParser(new Cursor(parts, null));
  try {
    const spec = parser.parseHead();
    const args = parser.parseArgs();
    const problem = checkArguments(spec, args);
    if (problem) return parseFailure(parser.tag, problem);
    return { ok: true, command: { tag: parser.tag!, name: spec.name, args }, spec };
  } catch (error) {
    return failure(parser, error);
  }
}

/**
 * Parses the text before a literal the client has announced and tells where that literal falls:
 * list depth and top-level argument index. Fails as parseCommand would when the text so far is
 * already wrong (unknown command, bad syntax), so the literal can be refused before it is read.
 */
export function inspectLiteralContext(parts: readonly CommandPart[]): LiteralContext {
  const probe: NonText = { kind: 'literal', data: Buffer.alloc(0) };
  const parser = new CommandParser(new Cursor([...parts, probe], probe));
  let spec: CommandSpec | null = null;
  try {
    spec = parser.parseHead();
    // The probe is the last part, so reading the arguments either reaches it or fails first.
    parser.parseArgs();
    return parseFailure(parser.tag, 'Unexpected literal');
  } catch (error) {
    if (error instanceof ProbeReached && spec) {
      return { ok: true, tag: parser.tag!, spec, depth: error.depth, argIndex: error.argIndex };
    }
    return failure(parser, error);
  }
}
