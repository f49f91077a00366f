/**
 * The parser traps of docs/imap-security.md as transcripts: client bytes in, what the gateway
 * relays upstream and answers out. Each input is also replayed split at every byte boundary.
 */
import { describe, expect, it } from 'vitest';
import { type HarnessOptions, type Outcome, answers, relayed, runGateway } from './step-driver.js';

/** Runs the input whole and split at every byte boundary (and byte by byte); all must agree. */
function transcript(input: string, options: HarnessOptions = {}): Outcome[] {
  const whole = runGateway(input, options);
  for (let cut = 1; cut < input.length; cut++) {
    expect(runGateway(input, { ...options, chunks: [cut, input.length] }), `split at ${cut}`).toEqual(whole);
  }
  expect(runGateway(input, { ...options, chunks: [1] }), 'byte by byte').toEqual(whole);
  return whole;
}

describe('zero-argument commands with a literal', () => {
  it('refuses NOOP {12+} and consumes the literal that carries an EXPUNGE', () => {
    const out = transcript('a1 NOOP {12+}\r\nb1 EXPUNGE\r\n\r\nc1 NOOP\r\n');
    expect(answers(out)).toEqual(['a1 BAD NOOP takes no arguments']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it.each(['CHECK', 'CAPABILITY', 'IDLE', 'LOGOUT', 'NAMESPACE', 'EXPUNGE', 'UNSELECT'])('refuses %s with a literal argument', (name) => {
    const out = transcript(`a1 ${name} {12+}\r\nb1 EXPUNGE\r\n\r\n`);
    expect(answers(out)).toEqual([`a1 BAD ${name} takes no arguments`]);
    expect(relayed(out)).toEqual([]);
  });

  it('refuses an unknown command with a literal and forwards nothing of it', () => {
    const out = transcript('a1 XYZZY {12+}\r\nb1 EXPUNGE\r\n\r\n');
    expect(answers(out)).toEqual(['a1 BAD Unknown command']);
    expect(relayed(out)).toEqual([]);
  });

  it('refuses NOOP with plain arguments', () => {
    expect(answers(transcript('a1 NOOP b1 EXPUNGE\r\n'))).toEqual(['a1 BAD NOOP takes no arguments']);
  });

  it('treats the line after a refused synchronizing literal as a new command', () => {
    // The client waited for "+", got BAD, and so never sent the literal (RFC 9051 §2.2.1).
    const out = transcript('a1 NOOP {12}\r\nb1 EXPUNGE\r\n', { restricted: true });
    expect(answers(out)).toEqual(['a1 BAD NOOP takes no arguments', 'b1 NO [NOPERM] Restricted login: EXPUNGE: Deleting mail is disabled in this session.']);
    expect(relayed(out)).toEqual([]);
  });
});

describe('line endings', () => {
  it('refuses a bare LF instead of seeing two commands', () => {
    const out = transcript('a1 NOOP\nb1 EXPUNGE\r\nc1 NOOP\r\n');
    expect(answers(out)).toEqual(['a1 BAD Bare CR, bare LF or NUL in command']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('refuses a bare CR', () => {
    const out = transcript('a1 NOOP\rb1 EXPUNGE\r\nc1 NOOP\r\n');
    expect(answers(out)).toEqual(['a1 BAD Bare CR, bare LF or NUL in command']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('refuses a NUL byte in a command line', () => {
    const out = transcript('a1 SELECT INBOX\0\r\nc1 NOOP\r\n');
    expect(answers(out)).toEqual(['a1 BAD Bare CR, bare LF or NUL in command']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('refuses a bare LF in the text after a literal', () => {
    const out = transcript('a1 LOGIN {1}\r\nu p\nb1 EXPUNGE\r\n', { state: 'not-authenticated' });
    expect(answers(out)).toEqual(['+ Ready for literal data', 'a1 BAD Bare CR, bare LF or NUL in command']);
  });
});

describe('literals that carry protocol', () => {
  it('relays a literal holding CRLF and a command as one literal, never as a command', () => {
    const name = 'INBOX\r\nb1 EXPUNGE';
    const out = transcript(`a1 SELECT {${name.length}}\r\n${name}\r\n`, { state: 'authenticated', restricted: true });
    expect(answers(out)).toEqual(['+ Ready for literal data']);
    expect(relayed(out)).toEqual([`a1 SELECT {${name.length}}\r\n${name}\r\n`]);
    expect(out.filter((o) => o.type === 'relay')).toHaveLength(1);
  });

  it('before login (LITERAL-), consumes an over-long {n+} whose bytes hold commands, then reads on', () => {
    const body = 'b1 EXPUNGE\r\n'.repeat(500);
    const out = runGateway(`a1 LOGIN {${body.length}+}\r\n${body}\r\nc1 NOOP\r\n`, { chunks: [7, 100, 3], state: 'not-authenticated' });
    expect(answers(out)).toEqual(['a1 BAD [TOOBIG] Non-synchronizing literal too large']);
    // Before login nothing is relayed: the next command the pre-login handler sees is c1.
    expect(out.flatMap((o) => (o.type === 'pre-auth' ? [o.command.tag] : []))).toEqual(['c1']);
    expect(relayed(out)).toEqual([]);
  });

  it('after login (LITERAL+), reads a {n+} over the literal limit, drops it, refuses it and reads on', () => {
    const body = 'b1 EXPUNGE\r\n'.repeat(6000);
    const out = runGateway(`a1 SEARCH TEXT {${body.length}+}\r\n${body}\r\nc1 NOOP\r\n`, { chunks: [7, 100, 3], restricted: true });
    expect(answers(out)).toEqual(['a1 BAD [TOOBIG] Literal too large']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('after login (LITERAL+), takes a {n+} larger than LITERAL- allows without a continuation', () => {
    const text = 'x'.repeat(5000);
    const out = runGateway(`a1 SEARCH TEXT {${text.length}+}\r\n${text}\r\n`);
    expect(answers(out)).toEqual([]);
    expect(relayed(out)).toHaveLength(1);
    expect(relayed(out)[0]).toContain(text);
  });

  it('re-emits a quoted string that looks like a literal marker as a quoted string', () => {
    const out = transcript('a1 SELECT "x {5}"\r\n', { state: 'authenticated' });
    expect(relayed(out)).toEqual(['a1 SELECT "x {5}"\r\n']);
  });

  it('refuses an unterminated quoted string ending in a literal marker', () => {
    const out = transcript('a1 SELECT "x {5}\r\nc1 NOOP\r\n', { state: 'authenticated' });
    expect(answers(out)).toEqual(['a1 BAD Unterminated quoted string']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('refuses literal8 outside APPEND', () => {
    const out = transcript('a1 SELECT ~{5}\r\nINBOX\r\n', { state: 'authenticated' });
    expect(answers(out)[0]).toBe('a1 BAD literal8 is only allowed for an APPEND message');
  });

  it('refuses a literal that does not start a token', () => {
    const out = transcript('a1 LOGIN user{4}\r\npass\r\n', { state: 'not-authenticated' });
    expect(answers(out)).toEqual(['a1 BAD Missing space before literal', '* BAD Missing or invalid tag']);
  });
});

describe('APPEND streaming', () => {
  it('streams the message and relays it after the prefix', () => {
    const out = transcript('a1 APPEND INBOX (\\Seen) {12}\r\nhello\r\nworld\r\n', { state: 'authenticated' });
    expect(answers(out)).toEqual(['+ Ready for literal data']);
    expect(relayed(out)).toEqual(['a1 APPEND INBOX (\\Seen) {12}\r\nhello\r\nworld\r\n']);
  });

  it('streams a literal8 message as literal8', () => {
    const out = transcript('a1 APPEND INBOX ~{3}\r\na\0b\r\n', { state: 'authenticated' });
    expect(relayed(out)).toEqual(['a1 APPEND INBOX ~{3}\r\na\0b\r\n']);
  });

  it('abandons the upstream APPEND when junk follows the message', () => {
    const out = transcript('a1 APPEND INBOX {5}\r\nhello JUNK\r\n', { state: 'authenticated' });
    expect(out).toContainEqual({ type: 'abort-upstream' });
    expect(relayed(out)).toEqual([]);
  });

  it('MULTIAPPEND to a store without it: tagged BAD, the store command cancelled, the next command runs', () => {
    const out = transcript('a1 APPEND INBOX {5+}\r\nhello {16+}\r\nb1 EXPUNGE\r\nxx\r\n\r\nc1 NOOP\r\n', { state: 'selected', multiAppend: false });
    expect(out).toContainEqual({ type: 'abort-upstream' });
    expect(answers(out)).toEqual(['a1 BAD MULTIAPPEND is not available through this gateway']);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('MULTIAPPEND relays every message with its own flags in one command', () => {
    const out = transcript('a1 APPEND INBOX (\\Seen) {5+}\r\nhello (\\Flagged) {5+}\r\nworld\r\n', { state: 'authenticated', nonSyncLiteralMax: Infinity });
    expect(relayed(out)).toEqual(['a1 APPEND INBOX (\\Seen) {5+}\r\nhello (\\Flagged) {5+}\r\nworld\r\n']);
  });

  it('restricted MULTIAPPEND with one message marked \\Deleted: refused whole, its bytes dropped', () => {
    const out = transcript('a1 APPEND INBOX {5+}\r\nhello (\\Deleted) {14+}\r\nb1 EXPUNGE\r\n\r\n\r\nc1 NOOP\r\n', { state: 'selected', restricted: true });
    expect(out).toContainEqual({ type: 'abort-upstream' });
    expect(answers(out)[0]).toMatch(/^a1 NO \[NOPERM\]/);
    expect(relayed(out)).toEqual(['c1 NOOP\r\n']);
  });

  it('answers NO [TOOBIG] for a message over the limit, and the client sends nothing more', () => {
    const out = transcript('a1 APPEND INBOX {2000}\r\nb1 NOOP\r\n', { state: 'authenticated', maxMessageSize: 1999 });
    expect(answers(out)).toEqual(['a1 NO [TOOBIG] Message too large']);
    expect(relayed(out)).toEqual(['b1 NOOP\r\n']);
  });

  it('refuses APPEND before login without reading the message', () => {
    const out = transcript('a1 APPEND INBOX {5}\r\n', { state: 'not-authenticated' });
    expect(answers(out)).toEqual(['a1 BAD APPEND is not valid in this state']);
  });
});

describe('IDLE', () => {
  it('reads DONE in any case, then parses pipelined commands as commands', () => {
    const out = transcript('a1 IDLE\r\ndone\r\nb1 EXPUNGE\r\n', { restricted: true });
    expect(out).toEqual([
      { type: 'relay', command: { tag: 'a1', name: 'IDLE', args: [] }, upstream: 'a1 IDLE\r\n' },
      { type: 'answer', line: '+ idling' },
      { type: 'idle-done', valid: true },
      { type: 'answer', line: 'b1 NO [NOPERM] Restricted login: EXPUNGE: Deleting mail is disabled in this session.' },
    ]);
  });

  it('ends IDLE on any other line without running it', () => {
    const out = transcript('a1 IDLE\r\nb1 EXPUNGE\r\nc1 NOOP\r\n');
    expect(out.filter((o) => o.type !== 'answer')).toEqual([
      expect.objectContaining({ type: 'relay', upstream: 'a1 IDLE\r\n' }),
      { type: 'idle-done', valid: false },
      expect.objectContaining({ type: 'relay', upstream: 'c1 NOOP\r\n' }),
    ]);
  });
});

describe('tags', () => {
  it.each([['+1 NOOP\r\n'], ['* NOOP\r\n'], ['a\u00e91 NOOP\r\n'], [' NOOP\r\n'], ['\r\n'], ['a{1 NOOP\r\n']])('answers * BAD to %j', (line) => {
    const out = runGateway(line);
    expect(answers(out)).toEqual(['* BAD Missing or invalid tag']);
    expect(relayed(out)).toEqual([]);
  });

  it('accepts a tag with "]" and other astring characters', () => {
    expect(relayed(runGateway('a]b.1 NOOP\r\n'))).toEqual(['a]b.1 NOOP\r\n']);
  });
});

describe('re-emission', () => {
  it('rebuilds a command from its parse, normalizing names and strings', () => {
    const out = transcript('x uid fetch 1:* (FLAGS body.peek[HEADER.FIELDS ("From" {2}\r\nTo)]<0.10>)\r\n');
    expect(relayed(out)).toEqual(['x UID FETCH 1:* (FLAGS body.peek[HEADER.FIELDS ("From" "To")]<0.10>)\r\n']);
  });

  it('turns a quoted string with a control character into a literal upstream', () => {
    expect(relayed(runGateway('a SEARCH TEXT "a\tb"\r\n'))).toEqual(['a SEARCH TEXT {3}\r\na\tb\r\n']);
  });

  it('uses {n+} upstream when upstream has LITERAL-', () => {
    expect(relayed(runGateway('a SEARCH TEXT "a\tb"\r\n', { nonSyncLiteralMax: 4096 }))).toEqual(['a SEARCH TEXT {3+}\r\na\tb\r\n']);
  });
});
