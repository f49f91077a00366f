import { describe, expect, it } from 'vitest';
import { CommandReader, type CommandReaderEvent } from '../../../gateway/imap/command-reader.js';
import { MAX_LINE_BYTES } from '../../../gateway/imap/limits.js';

type Decision = 'collect' | 'stream' | 'refuse';

/** Feeds `chunks`, drains events, answering literal announcements from `decisions` in order. */
function drain(reader: CommandReader, chunks: Array<string | Buffer>, decisions: Decision[] = []): CommandReaderEvent[] {
  const events: CommandReaderEvent[] = [];
  for (const chunk of chunks) {
    reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    for (let e = reader.next(); e; e = reader.next()) {
      events.push(e);
      if (e.type === 'literal') {
        const d = decisions.shift() ?? 'collect';
        if (d === 'collect') reader.collectLiteral();
        else if (d === 'stream') reader.streamLiteral();
        else reader.refuseLiteral();
      }
    }
  }
  return events;
}

/** Events in a comparable form: buffers as strings, consecutive literal chunks merged. */
function normalize(events: CommandReaderEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    const prev = out.at(-1) as { type: string; data: string } | undefined;
    if (e.type === 'literal-chunk' && prev?.type === 'literal-chunk') prev.data += e.data.toString('latin1');
    else if (e.type === 'literal-chunk') out.push({ type: e.type, data: e.data.toString('latin1') });
    else if (e.type === 'command' || e.type === 'literal') {
      out.push({ ...e, parts: e.parts.map((p) => (p.kind === 'streamed' ? p : { kind: p.kind, data: p.data.toString('latin1') })) });
    } else if (e.type === 'sasl-response') out.push({ type: e.type, data: e.data.toString('latin1') });
    else out.push(e);
  }
  return out;
}

function read(input: string, decisions: Decision[] = []): unknown[] {
  return normalize(drain(new CommandReader(), [input], decisions));
}

function everySplit(input: string, decisions: Decision[] = []): void {
  const whole = read(input, [...decisions]);
  for (let cut = 1; cut < input.length; cut++) {
    const split = normalize(drain(new CommandReader(), [input.slice(0, cut), input.slice(cut)], [...decisions]));
    expect(split, `split at ${cut}`).toEqual(whole);
  }
}

const text = (data: string) => ({ kind: 'text', data });

describe('CommandReader lines', () => {
  it('yields one command per CRLF-terminated line', () => {
    expect(read('a1 NOOP\r\nb2 CAPABILITY\r\n')).toEqual([
      { type: 'command', parts: [text('a1 NOOP')] },
      { type: 'command', parts: [text('b2 CAPABILITY')] },
    ]);
  });

  it('waits for the LF after a CR at the end of a chunk', () => {
    const reader = new CommandReader();
    expect(drain(reader, ['a1 NOOP\r'])).toEqual([]);
    expect(normalize(drain(reader, ['\n']))).toEqual([{ type: 'command', parts: [text('a1 NOOP')] }]);
  });

  it.each([
    ['bare LF', 'a1 NOOP\nb1 EXPUNGE\r\n', 'bare-lf'],
    ['bare CR', 'a1 NOOP\rb1 EXPUNGE\r\n', 'bare-cr'],
    ['CR CR LF', 'a1 NOOP\r\r\n', 'bare-cr'],
    ['NUL', 'a1 NO\0OP\r\n', 'nul'],
  ])('refuses a line with a %s and drops it up to the next CRLF', (_name, input, reason) => {
    expect(read(`${input}c1 NOOP\r\n`)).toEqual([
      { type: 'refused', tag: 'a1', reason },
      { type: 'command', parts: [text('c1 NOOP')] },
    ]);
    everySplit(`${input}c1 NOOP\r\n`);
  });

  it('reports no tag when the refused line has none', () => {
    expect(read('\nx\r\n')).toEqual([{ type: 'refused', tag: null, reason: 'bare-lf' }]);
  });

  it('ends the stream when a line exceeds MAX_LINE_BYTES', () => {
    const reader = new CommandReader();
    const events = drain(reader, [`a1 SEARCH TEXT ${'x'.repeat(MAX_LINE_BYTES)}`]);
    expect(events).toEqual([{ type: 'fatal', reason: 'line-too-long' }]);
    expect(drain(reader, ['a2 NOOP\r\n'])).toEqual([]);
  });

  it('accepts a line of exactly MAX_LINE_BYTES including CRLF', () => {
    const line = `a1 SEARCH TEXT ${'x'.repeat(MAX_LINE_BYTES - 17)}`;
    expect(drain(new CommandReader(), [`${line}\r\n`])[0]?.type).toBe('command');
  });

  it('ends the stream when a command of many literals exceeds its byte budget', () => {
    const reader = new CommandReader({ maxCommandBytes: 100 });
    const events = drain(reader, ['a1 SEARCH {10}\r\n0123456789 ', 'x'.repeat(100)]);
    expect(events.at(-1)).toEqual({ type: 'fatal', reason: 'command-too-long' });
  });

  it('keeps unread bytes until next() is called, and counts them', () => {
    const reader = new CommandReader();
    reader.push(Buffer.from('a LOGIN u p\r\nb SELECT INBOX\r\nc EXPUNGE\r\n'));
    expect(reader.next()?.type).toBe('command');
    expect(reader.bufferedBytes).toBe('b SELECT INBOX\r\nc EXPUNGE\r\n'.length);
  });

  it('drops everything buffered for STARTTLS', () => {
    const reader = new CommandReader();
    reader.push(Buffer.from('a STARTTLS\r\nb LOGIN injected p\r\n'));
    expect(reader.next()?.type).toBe('command');
    reader.discardBuffered();
    expect(reader.bufferedBytes).toBe(0);
    expect(normalize(drain(reader, ['c NOOP\r\n']))).toEqual([{ type: 'command', parts: [text('c NOOP')] }]);
  });
});

describe('CommandReader literals', () => {
  it('announces {n} with the text before it, then collects it', () => {
    const input = 'a1 LOGIN {4}\r\nuser {4+}\r\npass\r\n';
    expect(read(input)).toEqual([
      { type: 'literal', literal: { size: 4, sync: true, binary: false, index: 0, commandBytes: 12 }, parts: [text('a1 LOGIN ')] },
      { type: 'literal', literal: { size: 4, sync: false, binary: false, index: 1, commandBytes: 21 }, parts: [text('a1 LOGIN '), { kind: 'literal', data: 'user' }, text(' ')] },
      { type: 'command', parts: [text('a1 LOGIN '), { kind: 'literal', data: 'user' }, text(' '), { kind: 'literal', data: 'pass' }, text('')] },
    ]);
    everySplit(input);
  });

  it('announces literal8 as binary', () => {
    const events = read('a APPEND INBOX ~{3+}\r\na\0b\r\n', ['stream']);
    expect(events[0]).toMatchObject({ literal: { size: 3, sync: false, binary: true } });
    expect(events.slice(1)).toEqual([
      { type: 'literal-chunk', data: 'a\0b' },
      { type: 'literal-end' },
      { type: 'command', parts: [text('a APPEND INBOX '), { kind: 'streamed', size: 3, binary: true }, text('')] },
    ]);
  });

  it('streams a large literal in the chunks it arrives in, without holding it', () => {
    const reader = new CommandReader();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const events = drain(reader, ['a APPEND INBOX {1048576}\r\n'], ['stream']);
    expect(events).toHaveLength(1);
    let streamed = 0;
    const types: string[] = [];
    for (let i = 0; i < 16; i++) {
      for (const e of drain(reader, [chunk])) {
        types.push(e.type);
        if (e.type === 'literal-chunk') streamed += e.data.length;
      }
      expect(reader.bufferedBytes).toBe(0);
    }
    expect(streamed).toBe(1048576);
    expect(types).toEqual([...Array(16).fill('literal-chunk'), 'literal-end']);
    expect(drain(reader, ['\r\n']).map((e) => e.type)).toEqual(['command']);
  });

  it('handles a zero-length literal', () => {
    expect(read('a LOGIN {0}\r\n {0}\r\n\r\n').at(-1)).toEqual({
      type: 'command',
      parts: [text('a LOGIN '), { kind: 'literal', data: '' }, text(' '), { kind: 'literal', data: '' }, text('')],
    });
  });

  it('ends the command when a synchronizing literal is refused: the client will not send it', () => {
    expect(read('a1 NOOP {5}\r\nb1 NOOP\r\n', ['refuse'])).toEqual([
      expect.objectContaining({ type: 'literal' }),
      { type: 'command', parts: [text('b1 NOOP')] },
    ]);
  });

  it('drops a refused non-synchronizing literal and the rest of its command, including later literals', () => {
    const input = 'a1 NOOP {12+}\r\nb1 EXPUNGE\r\n {3+}\r\nc\r\n {4}\r\nd1 NOOP\r\n';
    expect(read(input, ['refuse'])).toEqual([
      expect.objectContaining({ type: 'literal' }),
      { type: 'command', parts: [text('d1 NOOP')] },
    ]);
    everySplit(input, ['refuse']);
  });

  it('ends the stream rather than read a refused {n+} larger than any message', () => {
    const reader = new CommandReader({ maxMessageSize: 1000 });
    expect(drain(reader, ['a NOOP {1001+}\r\n'], ['refuse']).at(-1)).toEqual({ type: 'fatal', reason: 'literal-too-large' });
  });

  it('reports an announced size beyond a safe integer as Infinity', () => {
    const events = read('a LOGIN {99999999999999999999}\r\n', ['refuse']);
    expect(events[0]).toMatchObject({ literal: { size: Infinity } });
  });

  it('does not take "{5}" inside the line for a literal', () => {
    expect(read('a SELECT "x{5}y"\r\n')).toEqual([{ type: 'command', parts: [text('a SELECT "x{5}y"')] }]);
  });

  it('refuses to collect beyond its limits (a bug in the caller)', () => {
    const reader = new CommandReader({ maxLiteralBytes: 10 });
    reader.push(Buffer.from('a LOGIN {11}\r\n'));
    reader.next();
    expect(() => reader.collectLiteral()).toThrow(RangeError);
  });

  it('insists on a decision before reading on', () => {
    const reader = new CommandReader();
    reader.push(Buffer.from('a LOGIN {1}\r\n'));
    reader.next();
    expect(() => reader.next()).toThrow(/decide/);
  });
});

describe('CommandReader modes', () => {
  it('reads DONE in IDLE mode in any case, then commands again', () => {
    const reader = new CommandReader();
    reader.push(Buffer.from('a IDLE\r\nDoNe\r\nb NOOP\r\n'));
    expect(reader.next()?.type).toBe('command');
    reader.enterIdle();
    expect(reader.next()).toEqual({ type: 'idle-done', valid: true });
    expect(reader.next()?.type).toBe('command');
  });

  it.each(['DONE ', 'b NOOP', 'DONE {5+}', 'DON\0E'])('reports %j in IDLE mode as not DONE', (line) => {
    const reader = new CommandReader();
    reader.enterIdle();
    expect(drain(reader, [`${line}\r\n`])).toEqual([{ type: 'idle-done', valid: false }]);
  });

  it('after the store ended IDLE, drops one late DONE and reads every other line as a command', () => {
    const cases: Array<[chunks: string[], commands: string[]]> = [
      [['done\r\nb NOOP\r\n'], ['b NOOP']],
      [['b NOOP\r\nDONE\r\n'], ['b NOOP', 'DONE']],
      [['DO', 'NE\r', '\nb NOOP\r\n'], ['b NOOP']],
    ];
    for (const [lines, expected] of cases) {
      const reader = new CommandReader();
      reader.enterIdle();
      reader.endIdle();
      expect(normalize(drain(reader, lines))).toEqual(expected.map((line) => ({ type: 'command', parts: [text(line)] })));
    }
  });

  it('reads one SASL response line in SASL mode', () => {
    const reader = new CommandReader();
    reader.expectSaslResponse();
    expect(normalize(drain(reader, ['AGFsaWNlAHNlY3JldA==\r\na NOOP\r\n']))).toEqual([
      { type: 'sasl-response', data: 'AGFsaWNlAHNlY3JldA==' },
      { type: 'command', parts: [text('a NOOP')] },
    ]);
  });

  it('refuses a SASL line with a bare LF', () => {
    const reader = new CommandReader();
    reader.expectSaslResponse();
    expect(drain(reader, ['abc\ndef\r\n'])).toEqual([{ type: 'refused', tag: null, reason: 'bare-lf' }]);
  });

  it('will not enter IDLE mode in the middle of a command', () => {
    const reader = new CommandReader();
    reader.push(Buffer.from('a NO'));
    reader.next();
    expect(() => reader.enterIdle()).toThrow();
  });
});
