import { describe, expect, it } from 'vitest';
import type { Arg } from '../../../gateway/imap/command-ast.js';
import { CommandReader, type CommandPart } from '../../../gateway/imap/command-reader.js';
import { COMMANDS } from '../../../gateway/imap/command-table.js';
import { MAX_LIST_DEPTH } from '../../../gateway/imap/limits.js';
import { type ParseResult, inspectLiteralContext, parseCommand } from '../../../gateway/imap/parse-command.js';

/** Frames one wire command (CRLF appended) and parses it; literals are collected, or streamed when listed. */
function parse(wire: string, stream: boolean[] = []): ParseResult {
  const reader = new CommandReader();
  reader.push(Buffer.from(`${wire}\r\n`, 'latin1'));
  for (let e = reader.next(); e; e = reader.next()) {
    if (e.type === 'literal') {
      if (stream.shift()) reader.streamLiteral();
      else reader.collectLiteral();
    }
    if (e.type === 'command') return parseCommand(e.parts);
  }
  throw new Error(`no command in ${JSON.stringify(wire)}`);
}

function args(wire: string, stream: boolean[] = []): Arg[] {
  const result = parse(wire, stream);
  if (!result.ok) throw new Error(`${wire}: ${result.refusal.text}`);
  return result.command.args;
}

const atom = (value: string): Arg => ({ type: 'atom', value });
const num = (value: string): Arg => ({ type: 'number', value });
const str = (value: string): Arg => ({ type: 'string', value: Buffer.from(value, 'utf8') });
const list = (...items: Arg[]): Arg => ({ type: 'list', items });

describe('parseCommand: tag and name', () => {
  it('parses tag, canonical name and arguments', () => {
    expect(parse('A001 login {5}\r\nalice "s3cr\\"t"')).toEqual({
      ok: true,
      command: { tag: 'A001', name: 'LOGIN', args: [str('alice'), str('s3cr"t')] },
      spec: COMMANDS.get('LOGIN'),
    });
  });

  it('folds the UID prefix into the name', () => {
    const result = parse('a Uid Expunge 1:5');
    expect(result.ok && result.command.name).toBe('UID EXPUNGE');
  });

  it.each(['UID', 'UID NOOP', 'UID LOGIN x y', 'XLIST "" *', 'NOOP2', 'FETCH-X 1 FLAGS', 'UIDFETCH 1 FLAGS'])('does not know %j', (line) => {
    expect(parse(`a ${line}`)).toMatchObject({ ok: false, tag: 'a', refusal: { text: 'Unknown command' } });
  });

  it('refuses a line with a tag and no command', () => {
    expect(parse('a ')).toMatchObject({ ok: false, tag: 'a', refusal: { text: 'Unknown command' } });
  });

  it.each(['a', '+ NOOP', '* NOOP', 'a%b NOOP', 'a"b NOOP', 'a\\b NOOP', 'a(b NOOP'])('refuses the tag in %j', (line) => {
    expect(parse(line)).toMatchObject({ ok: false, tag: null, refusal: { text: 'Missing or invalid tag' } });
  });

  it.each(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'IDLE', 'NAMESPACE', 'UNAUTHENTICATE'])(
    'refuses arguments to %s',
    (name) => {
      expect(parse(`a ${name}`).ok).toBe(true);
      expect(parse(`a ${name} x`)).toMatchObject({ ok: false, refusal: { text: `${name} takes no arguments` } });
      expect(parse(`a ${name} {3}\r\nx y`)).toMatchObject({ ok: false });
      expect(parse(`a ${name} `)).toMatchObject({ ok: false });
    },
  );

  it('checks arity against the command table', () => {
    expect(parse('a LOGIN alice')).toMatchObject({ ok: false, refusal: { text: 'LOGIN: argument 2 should be astring' } });
    expect(parse('a SELECT INBOX (CONDSTORE) x')).toMatchObject({ ok: false, refusal: { text: 'SELECT: too many arguments' } });
    expect(parse('a STATUS INBOX MESSAGES')).toMatchObject({ ok: false });
  });
});

describe('parseCommand: arguments', () => {
  it('tells atoms, numbers, sequence sets and NIL apart, keeping their text', () => {
    expect(args('a SEARCH 007 1:* 1,3:5 $ nil \\Seen $Forwarded INBOX* % *')).toEqual([
      num('007'),
      { type: 'sequence-set', value: '1:*' },
      { type: 'sequence-set', value: '1,3:5' },
      { type: 'sequence-set', value: '$' },
      { type: 'nil' },
      atom('\\Seen'),
      atom('$Forwarded'),
      atom('INBOX*'),
      atom('%'),
      { type: 'sequence-set', value: '*' },
    ]);
  });

  it('reads quoted strings with only \\" and \\\\ as escapes', () => {
    expect(args('a SEARCH TEXT "a\\\\b\\"c" ""')).toEqual([atom('TEXT'), str('a\\b"c'), str('')]);
    expect(parse('a SEARCH TEXT "a\\nb"')).toMatchObject({ ok: false, refusal: { text: 'Invalid escape in quoted string' } });
    expect(parse('a SEARCH TEXT "abc')).toMatchObject({ ok: false, refusal: { text: 'Unterminated quoted string' } });
  });

  it('accepts UTF-8 in quoted strings and refuses other 8-bit bytes', () => {
    expect(args('a SELECT "Entw\u00c3\u00bcrfe"')).toEqual([{ type: 'string', value: Buffer.from('Entwürfe') }]);
    expect(parse('a SELECT "Entw\u00fcrfe"')).toMatchObject({ ok: false, refusal: { text: 'Quoted string is not UTF-8' } });
    expect(parse('a SELECT Entw\u00c3\u00bcrfe')).toMatchObject({ ok: false });
  });

  it('refuses NUL in a literal', () => {
    expect(parse('a SEARCH TEXT {3}\r\na\0b')).toMatchObject({ ok: false, refusal: { text: 'NUL in literal' } });
  });

  it('parses nested lists, and refuses nesting deeper than MAX_LIST_DEPTH', () => {
    expect(args('a SEARCH (OR (FLAGGED) (NOT SEEN)) ()')).toEqual([
      list(atom('OR'), list(atom('FLAGGED')), list(atom('NOT'), atom('SEEN'))),
      list(),
    ]);
    const deep = (n: number) => `a SEARCH ${'('.repeat(n)}ALL${')'.repeat(n)}`;
    expect(parse(deep(MAX_LIST_DEPTH)).ok).toBe(true);
    expect(parse(deep(MAX_LIST_DEPTH + 1))).toMatchObject({ ok: false, refusal: { text: 'Too deeply nested', code: 'LIMIT' } });
    expect(parse(deep(100_000).slice(0, 60_000))).toMatchObject({ ok: false, refusal: { code: 'LIMIT' } });
  });

  it.each([
    ['a SEARCH  ALL', 'Unexpected space'],
    ['a SEARCH ALL ', 'Missing argument'],
    ['a SEARCH ( ALL)', 'Unexpected space'],
    ['a SEARCH (ALL', 'Unclosed list'],
    ['a SEARCH ALL)', 'Expected space'],
    ['a SEARCH ALL(', 'Expected space'],
    ['a SEARCH {3x}', 'Unexpected character 0x7b'],
    ['a SEARCH A\\B', 'Expected space'],
    ['a SEARCH \\', 'Invalid flag'],
    ['a SEARCH "a"b', 'Expected space'],
  ])('refuses %j', (line, text) => {
    expect(parse(line)).toMatchObject({ ok: false, tag: 'a', refusal: { text } });
  });

  it('reads a section with a header list, with header names as atoms, strings or literals', () => {
    expect(args('a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From "To" {7}\r\nSubject)]<0.100> BODY[])')).toEqual([
      num('1'),
      list(
        { type: 'section', name: 'BODY.PEEK', section: 'HEADER.FIELDS', fields: [atom('From'), str('To'), str('Subject')], partial: '<0.100>' },
        atom('BODY[]'),
      ),
    ]);
  });

  it('reads brackets without a header list as part of an atom', () => {
    expect(args('a FETCH 1 BINARY.PEEK[1.2]<0.10>')).toEqual([num('1'), atom('BINARY.PEEK[1.2]<0.10>')]);
    expect(args('a SELECT [Gmail]/Sent')).toEqual([atom('[Gmail]/Sent')]);
    expect(args('a RENAME foo[bar x[')).toEqual([atom('foo[bar'), atom('x[')]);
    // Not a valid section, but a valid atom: the store refuses it as a FETCH item.
    expect(args('a FETCH 1 BODY[1[2]]')).toEqual([num('1'), atom('BODY[1[2]]')]);
  });

  it.each([
    'a FETCH 1 BODY[HEADER.FIELDS From]',
    'a FETCH 1 BODY[HEADER.FIELDS ()]',
    'a FETCH 1 BODY[HEADER.FIELDS (From)',
    'a FETCH 1 BODY[HEADER.FIELDS (From)]<x>',
    'a FETCH 1 B(Y[HEADER.FIELDS (From)]',
    'a FETCH 1 BODY[HEADER.FIELDS (From)][1]',
  ])('refuses the malformed section in %j', (line) => {
    expect(parse(line).ok).toBe(false);
  });

  it('places a streamed message only at the top level, where the table expects it', () => {
    expect(args('a APPEND INBOX (\\Seen) "1-Jan-2024 00:00:00 +0000" {5}\r\nhello', [true])).toEqual([
      atom('INBOX'),
      list(atom('\\Seen')),
      str('1-Jan-2024 00:00:00 +0000'),
      { type: 'streamed-literal', size: 5, binary: false },
    ]);
    expect(parse('a APPEND INBOX {5}\r\nhello').ok).toBe(false);
    expect(parse('a SEARCH TEXT {5}\r\nhello', [true])).toMatchObject({ ok: false });
    expect(parse('a APPEND INBOX ({5}\r\nhello)', [true])).toMatchObject({ ok: false, refusal: { text: 'A message literal must be a top-level argument' } });
    // MULTIAPPEND (RFC 3502): more messages, each with its own optional flags and date; a group must end with its message.
    expect(parse('a APPEND INBOX {5}\r\nhello (\\Seen) {5}\r\nhello', [true, true])).toMatchObject({ ok: true });
    expect(parse('a APPEND INBOX {5}\r\nhello (\\Seen)', [true])).toMatchObject({ ok: false, refusal: { text: 'APPEND: each message is [(flags)] ["date"] then the message literal' } });
    expect(parse('a APPEND INBOX {5}\r\nhello "x" (\\Seen) {5}\r\nhello', [true, true])).toMatchObject({ ok: false });
  });
});

describe('inspectLiteralContext', () => {
  const ctx = (text: string, ...rest: CommandPart[]) => inspectLiteralContext([{ kind: 'text', data: Buffer.from(text) }, ...rest]);

  it('reports the depth and argument index of the announced literal', () => {
    expect(ctx('a APPEND INBOX (\\Seen) ')).toMatchObject({ ok: true, tag: 'a', depth: 0, argIndex: 2 });
    expect(ctx('a APPEND ')).toMatchObject({ ok: true, depth: 0, argIndex: 0 });
    expect(ctx('a SEARCH (OR TEXT ')).toMatchObject({ ok: true, depth: 1, argIndex: 0 });
    expect(ctx('a FETCH 1 BODY[HEADER.FIELDS (From ')).toMatchObject({ ok: true, depth: 1, argIndex: 1 });
    expect(ctx('a LOGIN ', { kind: 'literal', data: Buffer.from('u') }, { kind: 'text', data: Buffer.from(' ') })).toMatchObject({ ok: true, argIndex: 1 });
  });

  it('fails as soon as the text before the literal is wrong', () => {
    expect(ctx('a XYZ ')).toMatchObject({ ok: false, tag: 'a', refusal: { text: 'Unknown command' } });
    expect(ctx('a LOGIN "u ')).toMatchObject({ ok: false, refusal: { text: 'Unterminated quoted string' } });
    expect(ctx('a LOGIN u')).toMatchObject({ ok: false, refusal: { text: 'Missing space before literal' } });
    expect(ctx('{')).toMatchObject({ ok: false, tag: null });
  });
});
