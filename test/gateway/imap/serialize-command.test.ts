import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Arg, Command } from '../../../gateway/imap/command-ast.js';
import { CommandReader } from '../../../gateway/imap/command-reader.js';
import { planLiteral } from '../../../gateway/imap/literal-plan.js';
import { type ParseResult, parseCommand } from '../../../gateway/imap/parse-command.js';
import {
  type UpstreamSegment,
  nonSyncLiteralMaxFor,
  segmentsToBuffer,
  serializeCommand,
} from '../../../gateway/imap/serialize-command.js';

const atom = (value: string): Arg => ({ type: 'atom', value });
const str = (value: string | Buffer): Arg => ({ type: 'string', value: Buffer.from(value) });
const cmd = (name: string, ...args: Arg[]): Command => ({ tag: 'a1', name, args });
const SYNC = { nonSyncLiteralMax: 0 };
const text = (c: Command, options = SYNC) => segmentsToBuffer(serializeCommand(c, options)).toString('latin1');

/** Frames and parses wire bytes as the gateway does (literals planned as for a selected session). */
function parseWire(wire: Buffer): ParseResult[] {
  const reader = new CommandReader();
  reader.push(wire);
  const results: ParseResult[] = [];
  for (let e = reader.next(); e; e = reader.next()) {
    if (e.type === 'literal') {
      const plan = planLiteral(e.parts, e.literal, { state: 'selected' });
      if (plan.action === 'collect') reader.collectLiteral();
      else if (plan.action === 'stream') reader.streamLiteral();
      else reader.refuseLiteral();
    }
    if (e.type === 'command') results.push(parseCommand(e.parts));
  }
  return results;
}

describe('serializeCommand', () => {
  it('writes atoms, numbers, sequence sets, NIL, lists and sections as they parsed', () => {
    const section: Arg = { type: 'section', name: 'BODY.PEEK', section: 'HEADER.FIELDS.NOT', fields: [atom('From'), str('To')], partial: '<0.10>' };
    expect(text(cmd('UID FETCH', { type: 'sequence-set', value: '1:*' }, { type: 'list', items: [atom('FLAGS'), section, atom('BODY[]')] }, { type: 'list', items: [atom('CHANGEDSINCE'), { type: 'number', value: '007' }] })))
      .toBe('a1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS.NOT (From "To")]<0.10> BODY[]) (CHANGEDSINCE 007)\r\n');
    expect(text(cmd('SEARCH', { type: 'nil' }, { type: 'list', items: [] }))).toBe('a1 SEARCH NIL ()\r\n');
  });

  it('quotes printable strings, escaping only " and \\', () => {
    expect(text(cmd('LOGIN', str('al"ice'), str('p\\w')))).toBe('a1 LOGIN "al\\"ice" "p\\\\w"\r\n');
    expect(text(cmd('SELECT', str('')))).toBe('a1 SELECT ""\r\n');
  });

  it('writes strings with CR, LF, controls, 8-bit bytes or great length as literals', () => {
    expect(serializeCommand(cmd('SELECT', str('a\r\nb')), SYNC)).toEqual([
      { kind: 'bytes', data: Buffer.from('a1 SELECT {4}\r\n') },
      { kind: 'await-continuation' },
      { kind: 'bytes', data: Buffer.from('a\r\nb\r\n') },
    ]);
    expect(text(cmd('SELECT', str('Entwürfe')))).toBe(`a1 SELECT {9}\r\n${Buffer.from('Entwürfe').toString('latin1')}\r\n`);
    expect(text(cmd('SEARCH', atom('TEXT'), str('x'.repeat(1025))))).toMatch(/^a1 SEARCH TEXT \{1025\}\r\n/);
    expect(text(cmd('SEARCH', atom('TEXT'), str('x'.repeat(1024))))).toMatch(/^a1 SEARCH TEXT "x+"\r\n$/);
  });

  it('uses {n+} within upstream\'s LITERAL- or LITERAL+ limit', () => {
    const big = (n: number) => cmd('SEARCH', atom('TEXT'), str(Buffer.alloc(n, 0x01)));
    expect(text(big(4096), { nonSyncLiteralMax: 4096 })).toMatch(/\{4096\+\}/);
    expect(serializeCommand(big(4097), { nonSyncLiteralMax: 4096 }).map((s) => s.kind)).toEqual(['bytes', 'await-continuation', 'bytes']);
    expect(text(big(100_000), { nonSyncLiteralMax: Infinity })).toMatch(/\{100000\+\}/);
  });

  it('marks where a streamed message goes', () => {
    const append = cmd('APPEND', atom('INBOX'), { type: 'streamed-literal', size: 5000, binary: true });
    expect(serializeCommand(append, { nonSyncLiteralMax: 4096 })).toEqual<UpstreamSegment[]>([
      { kind: 'bytes', data: Buffer.from('a1 APPEND INBOX ~{5000}\r\n') },
      { kind: 'await-continuation' },
      { kind: 'stream', size: 5000, binary: true },
      { kind: 'bytes', data: Buffer.from('\r\n') },
    ]);
    expect(() => segmentsToBuffer(serializeCommand(append, SYNC))).toThrow();
  });

  it.each([
    ['an atom with a space', cmd('SELECT', atom('a b'))],
    ['an atom with CRLF', cmd('SELECT', atom('a\r\nb1 EXPUNGE'))],
    ['an atom with a brace', cmd('SELECT', atom('{5}'))],
    ['an atom with a quote', cmd('SELECT', atom('"x"'))],
    ['an empty atom', cmd('SELECT', atom(''))],
    ['a lone backslash', cmd('SELECT', atom('\\'))],
    ['a number that is not digits', cmd('SELECT', { type: 'number', value: '1 2' })],
    ['a NUL in a string', cmd('SELECT', str('a\0b'))],
    ['an unsafe section', cmd('FETCH', { type: 'section', name: 'BODY', section: 'HEADER] x', fields: [atom('a')], partial: '' })],
    ['an unsafe tag', { tag: 'a+1', name: 'NOOP', args: [] }],
    ['an unsafe name', { tag: 'a', name: 'NOOP\r\nb EXPUNGE', args: [] }],
  ])('refuses to write %s', (_name, command) => {
    expect(() => serializeCommand(command, SYNC)).toThrow(/serialize/);
  });

  it('reads the non-synchronizing limit from upstream capabilities', () => {
    expect(nonSyncLiteralMaxFor(['IMAP4rev1'])).toBe(0);
    expect(nonSyncLiteralMaxFor(['IMAP4rev1', 'literal-'])).toBe(4096);
    expect(nonSyncLiteralMaxFor(['IMAP4rev2'])).toBe(4096);
    expect(nonSyncLiteralMaxFor(['IMAP4rev1', 'LITERAL+'])).toBe(Infinity);
  });
});

/** Client-side spellings of arguments: the same value in several encodings. */
const wireArg: fc.Memo<string> = fc.memo((depth) => {
  const leaves = [
    fc.stringMatching(/^[A-Za-z$][A-Za-z0-9.$_\-[\]]{0,8}$/).filter((s) => !s.includes('[') || /^[^[\]]*\[[^[\]]*\][^[\]]*$/.test(s)),
    fc.stringMatching(/^\\[A-Za-z]{1,8}$/),
    fc.stringMatching(/^\d{1,12}$/),
    fc.constantFrom('1:*', '2,4:6', '*', '$', 'NIL', 'nil', '%', 'INBOX*'),
    fc.string({ maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s) && [...s].every((c) => c.charCodeAt(0) < 0x80))
      .map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`),
    fc.tuple(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a.map((b) => b || 1))), fc.boolean())
      .map(([bytes, plus]) => `{${bytes.length}${plus ? '+' : ''}}\r\n${bytes.toString('latin1')}`),
    fc.array(fc.constantFrom('From', '"To"', '{7}\r\nSubject'), { minLength: 1, maxLength: 3 })
      .map((fields) => `BODY.PEEK[HEADER.FIELDS (${fields.join(' ')})]<0.10>`),
  ];
  if (depth <= 1) return fc.oneof(...leaves);
  return fc.oneof(...leaves, fc.array(wireArg(depth - 1), { maxLength: 4 }).map((items) => `(${items.join(' ')})`));
});

describe('round trip', () => {
  it('parse(serialize(parse(x))) equals parse(x)', () => {
    fc.assert(
      fc.property(
        fc.array(wireArg(4), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0, 4096, Infinity),
        (items, nonSyncLiteralMax) => {
          const wire = Buffer.from(`t SEARCH ${items.join(' ')}\r\n`, 'latin1');
          const [first] = parseWire(wire);
          expect(first?.ok, `${wire.toString('latin1')}: ${JSON.stringify(first)}`).toBe(true);
          if (!first?.ok) return;
          const again = parseWire(segmentsToBuffer(serializeCommand(first.command, { nonSyncLiteralMax })));
          expect(again).toEqual([first]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('re-emits a streamed APPEND that parses back to the same command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('INBOX', '"Sent Items"', '{5}\r\nDraft'),
        fc.subarray(['\\Seen', '\\Draft', '$Label']),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        (mailbox, flags, body, binary) => {
          const message = Buffer.from(binary ? body : body.map((b) => b || 1));
          const flagList = flags.length > 0 ? `(${flags.join(' ')}) ` : '';
          const wire = Buffer.concat([Buffer.from(`t APPEND ${mailbox} ${flagList}${binary ? '~' : ''}{${message.length}}\r\n`), message, Buffer.from('\r\n')]);
          const [first] = parseWire(wire);
          expect(first?.ok).toBe(true);
          if (!first?.ok) return;
          const segments = serializeCommand(first.command, { nonSyncLiteralMax: 0 });
          const upstream = Buffer.concat(segments.flatMap((s) => (s.kind === 'bytes' ? [s.data] : s.kind === 'stream' ? [message] : [])));
          expect(parseWire(upstream)).toEqual([first]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
