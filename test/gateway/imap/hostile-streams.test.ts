/**
 * Property tests over random and mutated client streams: the gateway never throws, never depends
 * on how bytes were split, never holds more than its limits, relays only what re-parses to the
 * same command, and in a restricted session relays only what the policy allows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandReader } from '../../../gateway/imap/command-reader.js';
import { type Command, astringValue } from '../../../gateway/imap/command-ast.js';
import { runGateway } from './step-driver.js';

/** An oracle written apart from restricted-policy.ts: does this command expunge, or flag \\Deleted? */
function destroysMail(command: Command): boolean {
  const destructive = ['EXPUNGE', 'UID EXPUNGE', 'CLOSE', 'MOVE', 'UID MOVE', 'DELETE', 'RENAME', 'SETACL', 'DELETEACL',
    'SETMETADATA', 'SETQUOTA', 'REPLACE', 'UID REPLACE', 'RESETKEY', 'FILTER', 'COMPRESS', 'UNAUTHENTICATE'];
  if (destructive.includes(command.name)) return true;
  if (command.name !== 'STORE' && command.name !== 'UID STORE') return false;
  const words = JSON.stringify(command.args.map(function flat(a): unknown {
    return a.type === 'list' ? a.items.map(flat) : astringValue(a);
  })).toUpperCase();
  return !words.includes('"-FLAGS') && words.includes('\\\\DELETED');
}

const COMMAND_LINES = [
  'a NOOP\r\n', 'b EXPUNGE\r\n', 'c STORE 1 +FLAGS (\\Deleted)\r\n', 'c2 STORE 1 -FLAGS \\Deleted\r\n', 'd UID MOVE 1 Trash\r\n',
  'e CLOSE\r\n', 'f FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From)])\r\n', 'g IDLE\r\n', 'DONE\r\n',
  'h APPEND INBOX (\\Seen) {5}\r\nhello\r\n', 'i SELECT INBOX\r\n', 'j LOGIN a b\r\n', 'k DELETE x\r\n',
  'l ENABLE QRESYNC\r\n', 'm ID ("name" "x" "x-originating-ip" "1.2.3.4")\r\n', 'n SEARCH TEXT "a\\"b"\r\n',
  'o STORE 1 {6}\r\n+FLAGS \\Deleted\r\n', 'p COPY 1:* {5}\r\nTrash\r\n', 'q COMPRESS DEFLATE\r\n', 'r UID EXPUNGE 1\r\n',
];

/** Pieces of plausible and implausible IMAP, to be glued together in random order. */
const fragment = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...COMMAND_LINES) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('', '~'), fc.nat(20), fc.constantFrom('', '+')).map(([t, n, p]) => `${t}{${n}${p}}\r\n`) },
  { weight: 3, arbitrary: fc.constantFrom('\r', '\n', '\r\n', '\0', ' ', '(', ')', '"', '\\', '[', ']', '{', '}', '+', '*', 'UID ', 'x1 ', 'STORE ') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a).toString('latin1')) },
);
const stream = fc.array(fragment, { maxLength: 30 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));
const chunking = fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 });
const session = fc.record({
  state: fc.constantFrom('not-authenticated' as const, 'authenticated' as const, 'selected' as const),
  restricted: fc.boolean(),
});

describe('hostile client streams', () => {
  it('never throw, and give the same result however the bytes are split', () => {
    fc.assert(
      fc.property(stream, chunking, session, (input, chunks, options) => {
        expect(runGateway(input, { ...options, chunks })).toEqual(runGateway(input, options));
      }),
      { numRuns: 200 },
    );
  });

  it('relay only commands that re-parse upstream to the same command', () => {
    fc.assert(
      fc.property(stream, session, (input, options) => {
        for (const outcome of runGateway(input, options)) {
          if (outcome.type !== 'relay') continue;
          const again = runGateway(outcome.upstream, { state: options.state }).filter((o) => o.type === 'relay');
          expect(again, outcome.upstream).toEqual([outcome]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('relay nothing that expunges or flags \\Deleted in a restricted session', () => {
    let relays = 0;
    fc.assert(
      fc.property(stream, chunking, (input, chunks) => {
        for (const outcome of runGateway(input, { restricted: true, chunks })) {
          if (outcome.type !== 'relay') continue;
          relays++;
          expect(destroysMail(outcome.command), outcome.upstream).toBe(false);
        }
      }),
      // About half the random streams relay something; 400 runs keep the "not vacuous" check below far
      // from its bound (200 runs once relayed only 99 commands).
      { numRuns: 400 },
    );
    expect(relays).toBeGreaterThan(100);
  });

  it('the oracle above does recognise destructive commands', () => {
    const destroyed = (wire: string) => runGateway(wire).some((o) => o.type === 'relay' && destroysMail(o.command));
    expect(destroyed('a STORE 1 {6}\r\n+FLAGS (\\deleted)\r\n')).toBe(true);
    expect(destroyed('a uid expunge 1\r\n')).toBe(true);
    expect(destroyed('a STORE 1 -FLAGS (\\Deleted)\r\n')).toBe(false);
  });

  it('never hold a line, literal or command beyond the reader limits', () => {
    const limits = { maxLineBytes: 48, maxLiteralBytes: 16, maxCommandBytes: 96, maxMessageSize: 64 };
    fc.assert(
      fc.property(stream, chunking, (input, chunks) => {
        const reader = new CommandReader(limits);
        let offset = 0;
        for (let i = 0; offset < input.length; i++) {
          const size = chunks[i % chunks.length]!;
          reader.push(input.subarray(offset, offset + size));
          offset += size;
          for (let e = reader.next(); e; e = reader.next()) {
            if (e.type === 'literal') {
              const { size: n, commandBytes } = e.literal;
              if (n <= limits.maxLiteralBytes && commandBytes + n <= limits.maxCommandBytes) reader.collectLiteral();
              else if (n <= limits.maxMessageSize && e.literal.binary) reader.streamLiteral();
              else reader.refuseLiteral();
            }
            if (e.type === 'command') {
              let total = 0;
              for (const part of e.parts) {
                if (part.kind === 'streamed') continue;
                total += part.data.length;
                const limit = part.kind === 'text' ? limits.maxLineBytes - 2 : limits.maxLiteralBytes;
                expect(part.data.length).toBeLessThanOrEqual(limit);
              }
              expect(total).toBeLessThanOrEqual(limits.maxCommandBytes);
            }
            if (e.type === 'literal-chunk') expect(e.data.length).toBeLessThanOrEqual(limits.maxMessageSize);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
