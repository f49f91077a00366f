import { describe, expect, it } from 'vitest';
import { ResponseReader, type ResponseEvent, classifyResponse } from '../../../gateway/imap/response-reader.js';

function drain(reader: ResponseReader, chunks: Array<string | Buffer>): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  for (const chunk of chunks) {
    reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    for (let e = reader.next(); e; e = reader.next()) events.push(e);
  }
  return events;
}

/** Buffers as strings, consecutive literal chunks merged, so splits compare equal. */
function normalize(events: ResponseEvent[]): unknown[] {
  const out: Array<Record<string, unknown>> = [];
  for (const e of events) {
    const prev = out.at(-1);
    if (e.type === 'literal-chunk') {
      if (prev?.type === 'literal-chunk') prev.data += e.data.toString('latin1');
      else out.push({ type: e.type, data: e.data.toString('latin1') });
    } else if (e.type === 'response' || e.type === 'text') out.push({ ...e, text: e.text.toString('latin1') });
    else out.push({ ...e });
  }
  return out;
}

function read(input: string): unknown[] {
  return normalize(drain(new ResponseReader(), [input]));
}

function expectSplitInvariant(input: string): unknown[] {
  const whole = read(input);
  for (let cut = 1; cut < input.length; cut++) {
    expect(normalize(drain(new ResponseReader(), [input.slice(0, cut), input.slice(cut)])), `split at ${cut}`).toEqual(whole);
  }
  return whole;
}

describe('classifyResponse', () => {
  it.each([
    ['* OK [CAPABILITY IMAP4rev1] Ready', { kind: 'untagged', tag: null, status: 'OK', keyword: 'OK' }],
    ['* BYE Shutting down', { kind: 'untagged', tag: null, status: 'BYE', keyword: 'BYE' }],
    ['* PREAUTH hi', { kind: 'untagged', tag: null, status: 'PREAUTH', keyword: 'PREAUTH' }],
    ['* 3 EXISTS', { kind: 'untagged', tag: null, status: null, keyword: 'EXISTS' }],
    ['* 1 FETCH (FLAGS ())', { kind: 'untagged', tag: null, status: null, keyword: 'FETCH' }],
    ['* capability IMAP4rev1', { kind: 'untagged', tag: null, status: null, keyword: 'CAPABILITY' }],
    ['+ idling', { kind: 'continuation', tag: null, status: null, keyword: null }],
    ['+', { kind: 'continuation', tag: null, status: null, keyword: null }],
    ['A1 OK done', { kind: 'tagged', tag: 'A1', status: 'OK', keyword: 'OK' }],
    ['a1 no [TRYCREATE] x', { kind: 'tagged', tag: 'a1', status: 'NO', keyword: 'NO' }],
    ['a]1 BAD', { kind: 'tagged', tag: 'a]1', status: 'BAD', keyword: 'BAD' }],
    ['', { kind: 'malformed', tag: null, status: null, keyword: null }],
    ['*', { kind: 'malformed', tag: null, status: null, keyword: null }],
    ['A1 MAYBE', { kind: 'malformed', tag: null, status: null, keyword: null }],
    ['+x', { kind: 'malformed', tag: null, status: null, keyword: null }],
  ])('classifies %j', (line, head) => {
    expect(classifyResponse(Buffer.from(line))).toEqual(head);
  });
});

describe('ResponseReader', () => {
  it('passes a message body that contains protocol lines through as literal bytes', () => {
    const body = 'Subject: hi\r\n\r\ntext\r\n* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\nA1 OK\r\n';
    const input = `* 1 FETCH (UID 7 BODY[] {${body.length}}\r\n${body})\r\nA1 OK Fetch completed.\r\n`;
    expect(expectSplitInvariant(input)).toEqual([
      { type: 'response', head: { kind: 'untagged', tag: null, status: null, keyword: 'FETCH' }, text: `* 1 FETCH (UID 7 BODY[] {${body.length}}`, end: 'literal', literalSize: body.length },
      { type: 'literal-chunk', data: body },
      { type: 'literal-end' },
      { type: 'text', text: ')', end: 'response-end', literalSize: null },
      { type: 'response', head: { kind: 'tagged', tag: 'A1', status: 'OK', keyword: 'OK' }, text: 'A1 OK Fetch completed.', end: 'response-end', literalSize: null },
    ]);
  });

  it('frames several literals in one response, and literal8', () => {
    const input = '* 1 FETCH (BODY[HEADER] {3}\r\nabc BINARY[1] ~{3}\r\na\0b)\r\n* 2 EXISTS\r\n';
    const events = expectSplitInvariant(input) as Array<{ type: string; end?: string }>;
    expect(events.map((e) => e.type)).toEqual(['response', 'literal-chunk', 'literal-end', 'text', 'literal-chunk', 'literal-end', 'text', 'response']);
  });

  it('never reads a literal in a status response or a continuation, whose text has none', () => {
    const input = 'a NO Mailbox doesn\'t exist: foo{5}\r\n* 1 EXISTS\r\n+ {5}\r\n* OK x {2}\r\nA1 OK\r\n';
    const events = expectSplitInvariant(input) as Array<{ type: string }>;
    expect(events.map((e) => e.type)).toEqual(['response', 'response', 'response', 'response', 'response']);
  });

  it('reads a literal in untagged data such as LIST', () => {
    const events = read('* LIST () "/" {3}\r\na"b\r\n') as Array<{ type: string }>;
    expect(events.map((e) => e.type)).toEqual(['response', 'literal-chunk', 'literal-end', 'text']);
  });

  it('streams a large literal without buffering it', () => {
    const reader = new ResponseReader();
    drain(reader, ['* 1 FETCH (BODY[] {1048576}\r\n']);
    let total = 0;
    for (let i = 0; i < 16; i++) {
      for (const e of drain(reader, [Buffer.alloc(65536, 0x2a)])) if (e.type === 'literal-chunk') total += e.data.length;
      expect(reader.bufferedBytes).toBe(0);
    }
    expect(total).toBe(1048576);
    expect(normalize(drain(reader, [')\r\n']))).toEqual([{ type: 'text', text: ')', end: 'response-end', literalSize: null }]);
  });

  it('passes an over-long line on in bounded pieces', () => {
    const line = `* SEARCH ${Array.from({ length: 1000 }, (_, i) => i + 1).join(' ')}`;
    const events = drain(new ResponseReader({ maxPieceBytes: 256 }), [`${line}\r\nA1 OK\r\n`]);
    const pieces = events.slice(0, -1) as Array<Extract<ResponseEvent, { type: 'response' | 'text' }>>;
    expect(pieces[0]).toMatchObject({ type: 'response', head: { keyword: 'SEARCH' }, end: 'partial' });
    expect(pieces.slice(1).every((p) => p.type === 'text')).toBe(true);
    expect(pieces.at(-1)!.end).toBe('response-end');
    expect(pieces.every((p) => p.text.length <= 256)).toBe(true);
    expect(Buffer.concat(pieces.map((p) => p.text)).toString()).toBe(line);
    expect(events.at(-1)).toMatchObject({ type: 'response', head: { kind: 'tagged', tag: 'A1' } });
  });

  it('sees the literal marker at the end of an over-long line', () => {
    const input = `* 1 FETCH (ENVELOPE ("${'x'.repeat(1000)}") BODY[] {5}\r\nhello)\r\n`;
    for (const size of [256, 300, 1000, 1031]) {
      const events = normalize(drain(new ResponseReader({ maxPieceBytes: size }), [input])) as Array<{ type: string; data?: string }>;
      expect(events.find((e) => e.type === 'literal-chunk')?.data, `piece ${size}`).toBe('hello');
    }
  });

  it.each([
    ['a bare LF', '* 1 EXISTS\n* CAPABILITY X\r\n', 'bare-lf'],
    ['a bare CR', '* 1 EXISTS\r* CAPABILITY X\r\n', 'bare-cr'],
    ['an impossible literal size', '* 1 FETCH (BODY[] {99999999999999999999}\r\n', 'literal-too-large'],
  ])('fails the stream on %s', (_name, input, reason) => {
    const reader = new ResponseReader();
    expect(drain(reader, [input]).at(-1)).toEqual({ type: 'fatal', reason });
    expect(drain(reader, ['A1 OK\r\n'])).toEqual([]);
  });
});
