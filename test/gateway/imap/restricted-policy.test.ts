import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../../gateway/imap/command-ast.js';
import { COMMANDS } from '../../../gateway/imap/command-table.js';
import { RESTRICTED_RULES, checkRestrictedCommand } from '../../../gateway/imap/restricted-policy.js';
import { answers, relayed, runGateway } from './step-driver.js';

type Expected = 'allow' | 'refuse' | 'bad' | 'rewrite UNSELECT' | 'cannot';

/** What a restricted session does with one wire command (CRLF appended). */
function verdict(wire: string, state: SessionState = 'selected'): Expected {
  const out = runGateway(`${wire}\r\n`, { restricted: true, state });
  const relay = out.find((o) => o.type === 'relay');
  if (relay?.type === 'relay') return relay.command.name === 'UNSELECT' && !/unselect/i.test(wire) ? 'rewrite UNSELECT' : 'allow';
  const last = answers(out).filter((l) => !l.startsWith('+')).at(-1) ?? '';
  if (last.includes(' NO [NOPERM] ')) return 'refuse';
  if (last.includes(' NO [CANNOT] ')) return 'cannot';
  if (last.includes(' BAD ')) return 'bad';
  throw new Error(`no verdict for ${wire}: ${JSON.stringify(out)}`);
}

const TABLE: Array<[string, Expected]> = [
  // Expunging.
  ['a EXPUNGE', 'refuse'],
  ['a expunge', 'refuse'],
  ['a UID EXPUNGE 1:*', 'refuse'],
  ['a uid Expunge 1', 'refuse'],
  ['a CLOSE', 'rewrite UNSELECT'],
  ['a close', 'rewrite UNSELECT'],
  // STORE that sets \Deleted, in every spelling Dovecot accepts.
  ['a STORE 1 +FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 +FLAGS \\Deleted', 'refuse'],
  ['a STORE 1 +FLAGS \\Seen \\Deleted', 'refuse'],
  ['a STORE 1 +FLAGS.SILENT (\\Deleted)', 'refuse'],
  ['a STORE 1 FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 FLAGS.SILENT \\Seen \\Deleted', 'refuse'],
  ['a store 1 +flags (\\deleted)', 'refuse'],
  ['a STORE 1 +Flags.Silent (\\DELETED)', 'refuse'],
  ['a STORE 1 "+FLAGS" (\\Deleted)', 'refuse'],
  ['a STORE 1 "+FLAGS.SILENT" \\Deleted', 'refuse'],
  ['a STORE 1 {6}\r\n+FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 {6+}\r\n+FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 {5}\r\nFLAGS \\Deleted', 'refuse'],
  ['a STORE 1 (UNCHANGEDSINCE 12345) +FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 (unchangedsince 1) FLAGS.SILENT (\\Deleted)', 'refuse'],
  ['a UID STORE 1:* +FLAGS.SILENT (\\Deleted)', 'refuse'],
  ['a uid store 1:* flags \\deleted', 'refuse'],
  ['a STORE 1 +FLAGS (\\Seen \\Flagged \\Deleted)', 'refuse'],
  ['a STORE 1 +FLAGS ("\\\\Deleted")', 'refuse'],
  ['a STORE 1 +FLAGS ({8}\r\n\\Deleted)', 'refuse'],
  ['a STORE 1 +FLAGS (\\Recent)', 'refuse'],
  ['a STORE 1 +FLAGS (\\Deleted\\Seen)', 'bad'],
  ['a STORE 1 +FLAGS ((\\Deleted))', 'refuse'],
  ['a STORE 1 +FLAGS NIL', 'refuse'],
  ['a STORE 1 X-GM-LABELS (foo)', 'refuse'],
  ['a STORE 1 ANNOTATION (/comment (value.priv "x"))', 'refuse'],
  ['a STORE 1 (FOO 1) +FLAGS (\\Seen)', 'refuse'],
  ['a STORE 1 (UNCHANGEDSINCE 1 FOO 2) +FLAGS (\\Seen)', 'refuse'],
  // STORE that leaves mail intact.
  ['a STORE 1 +FLAGS (\\Seen)', 'allow'],
  ['a STORE 1:* +FLAGS.SILENT (\\Seen \\Answered \\Flagged \\Draft)', 'allow'],
  ['a STORE 1 -FLAGS (\\Deleted)', 'refuse'],
  ['a STORE 1 -FLAGS.SILENT \\Deleted', 'refuse'],
  ['a STORE 1 FLAGS ()', 'refuse'],
  ['a STORE 1 FLAGS (\\Seen $Forwarded)', 'refuse'],
  ['a STORE 1 +FLAGS ($Junk Deleted $Deleted)', 'allow'],
  ['a STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Flagged)', 'allow'],
  ['a UID STORE 1 +FLAGS \\Answered \\Draft', 'allow'],
  // Flags a reader may take away: only \Seen and \Flagged (mark unread, unflag).
  ['a STORE 1 -FLAGS (\\Seen)', 'allow'],
  ['a STORE 1:* -FLAGS.SILENT (\\Seen \\Flagged)', 'allow'],
  ['a STORE 1 -FLAGS (\\Answered)', 'refuse'],
  ['a STORE 1 -FLAGS ($Label1)', 'refuse'],
  ['a STORE 1 -FLAGS.SILENT \\Seen Work', 'refuse'],
  ['a STORE 1 {6}\r\n-FLAGS ($Junk)', 'refuse'],
  ['a STORE 1 FLAGS.SILENT (\\Seen \\Flagged \\Answered $Forwarded)', 'refuse'],
  ['a STORE 1 "FLAGS" ()', 'refuse'],
  ['a STORE 1 (UNCHANGEDSINCE 3) FLAGS ()', 'refuse'],
  ['a UID STORE 1:* flags.silent ()', 'refuse'],
  // APPEND may not plant a message the owner's next expunge removes.
  ['a APPEND INBOX (\\Deleted) {5+}\r\nhello', 'refuse'],
  ['a APPEND INBOX (\\deleted) "1-Jan-2020 00:00:00 +0000" {5+}\r\nhello', 'refuse'],
  ['a APPEND INBOX ("\\\\Deleted") {5+}\r\nhello', 'refuse'],
  ['a APPEND INBOX (\\Seen $Label1) {5}\r\nhello', 'allow'],
  // Other destruction.
  ['a MOVE 1 Trash', 'refuse'],
  ['a UID MOVE 1:* Trash', 'refuse'],
  ['a DELETE INBOX', 'refuse'],
  ['a delete "inbox"', 'refuse'],
  ['a DELETE {5}\r\nINBOX', 'refuse'],
  ['a RENAME INBOX Old', 'refuse'],
  ['a SETACL INBOX bob lrswipkxtea', 'refuse'],
  ['a DELETEACL INBOX owner', 'refuse'],
  ['a SETMETADATA INBOX (/private/comment NIL)', 'refuse'],
  ['a SETQUOTA "" (STORAGE 1)', 'refuse'],
  ['a REPLACE 1 INBOX {5+}\r\nhello', 'refuse'],
  ['a UID REPLACE 1 INBOX {5+}\r\nhello', 'refuse'],
  ['a RESETKEY', 'refuse'],
  ['a GENURLAUTH "imap://x" INTERNAL', 'refuse'],
  ['a URLFETCH "imap://x"', 'refuse'],
  ['a FILTER SIEVE "discard;"', 'refuse'],
  // The stream must stay in sight, for every session.
  ['a COMPRESS DEFLATE', 'cannot'],
  ['a UNAUTHENTICATE', 'cannot'],
  ['a STARTTLS', 'cannot'],
  ['a LOGIN user pass', 'bad'],
  // Reading, adding, navigating.
  ['a NOOP', 'allow'],
  ['a CAPABILITY', 'allow'],
  ['a CHECK', 'allow'],
  ['a UNSELECT', 'allow'],
  ['a SELECT INBOX (CONDSTORE)', 'allow'],
  ['a EXAMINE INBOX', 'allow'],
  ['a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From)])', 'allow'],
  ['a UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 5)', 'allow'],
  ['a SEARCH UNSEEN', 'allow'],
  ['a UID SEARCH RETURN (SAVE) DELETED', 'allow'],
  ['a COPY 1 Archive', 'allow'],
  ['a UID COPY 1:* Archive', 'allow'],
  ['a APPEND Sent (\\Seen \\Deleted) {5+}\r\nhello', 'refuse'],
  ['a CREATE Archive', 'allow'],
  ['a SUBSCRIBE Archive', 'allow'],
  ['a UNSUBSCRIBE Archive', 'refuse'],
  ['a unsubscribe "INBOX"', 'refuse'],
  ['a LIST "" *', 'allow'],
  ['a LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES))', 'allow'],
  ['a LSUB "" %', 'allow'],
  ['a STATUS INBOX (MESSAGES UNSEEN)', 'allow'],
  ['a NAMESPACE', 'allow'],
  ['a IDLE', 'allow'],
  ['a GETQUOTAROOT INBOX', 'allow'],
  ['a GETACL INBOX', 'allow'],
  ['a MYRIGHTS INBOX', 'allow'],
  ['a LISTRIGHTS INBOX bob', 'allow'],
  ['a GETMETADATA INBOX /private/comment', 'allow'],
  ['a SORT (DATE) UTF-8 ALL', 'allow'],
  ['a UID THREAD REFERENCES UTF-8 ALL', 'allow'],
  ['a ID ("name" "Thunderbird")', 'allow'],
];

describe('restricted policy', () => {
  it.each(TABLE)('%j → %s', (wire, expected) => {
    expect(verdict(wire)).toBe(expected);
  });

  it('allows ENABLE in the authenticated state', () => {
    expect(verdict('a ENABLE QRESYNC', 'authenticated')).toBe('allow');
  });

  it('refuses every command the table knows unless it is on the allow-list', () => {
    for (const name of COMMANDS.keys()) {
      const result = checkRestrictedCommand({ tag: 'a', name, args: [] });
      if (Object.hasOwn(RESTRICTED_RULES, name)) continue;
      expect(result, name).toMatchObject({ action: 'refuse', refusal: { code: 'NOPERM' } });
    }
  });

  it('refuses a command name it has never heard of', () => {
    expect(checkRestrictedCommand({ tag: 'a', name: 'XFUTURE', args: [] })).toMatchObject({ action: 'refuse' });
  });
});

/** Random upper/lower case of each letter. */
const anyCase = (word: string) =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((flips) => [...word].map((c, i) => (flips[i] ? c.toLowerCase() : c.toUpperCase())).join(''));

/** An astring in any encoding a client may use: atom, quoted, literal, non-synchronizing literal. */
const encoded = (word: string) =>
  fc.constantFrom(word, `"${word}"`, `{${word.length}}\r\n${word}`, `{${word.length}+}\r\n${word}`);

const deletingStore = fc.record({
  uid: fc.oneof(fc.constant(''), anyCase('UID ')),
  store: anyCase('STORE'),
  seq: fc.constantFrom('1', '1:*', '2,4:6', '$'),
  modifier: fc.oneof(fc.constant(''), anyCase('(UNCHANGEDSINCE 42) ')),
  item: fc.tuple(fc.constantFrom('FLAGS', '+FLAGS'), fc.boolean())
    .chain(([base, silent]) => anyCase(`${base}${silent ? '.SILENT' : ''}`))
    .chain(encoded),
  deleted: anyCase('\\DELETED').chain((d) => fc.constantFrom(d, d, `"\\${d}"`, `{${d.length}}\r\n${d}`)),
  others: fc.subarray(['\\Seen', '\\Flagged', '$Junk', 'Deleted', '\\Answered']),
  position: fc.nat(),
  parens: fc.boolean(),
});

describe('restricted policy properties', () => {
  it('never relays a STORE that sets \\Deleted, however it is spelled', () => {
    fc.assert(
      fc.property(deletingStore, (s) => {
        const flags = [...s.others];
        flags.splice(s.position % (flags.length + 1), 0, s.deleted);
        const list = s.parens ? `(${flags.join(' ')})` : flags.join(' ');
        const wire = `t1 ${s.uid}${s.store} ${s.seq} ${s.modifier}${s.item} ${list}\r\n`;
        const out = runGateway(wire, { restricted: true });
        expect(relayed(out), wire).toEqual([]);
        expect(answers(out).filter((a) => !a.startsWith('+')), wire).toEqual([expect.stringMatching(/^t1 (NO|BAD) /)]);
      }),
      { numRuns: 400 },
    );
  });

  it('never relays a destructive command, however it is spelled', () => {
    const destructive = fc.oneof(
      anyCase('EXPUNGE'),
      fc.tuple(anyCase('UID EXPUNGE'), fc.constantFrom('1', '1:*')).map(([c, s]) => `${c} ${s}`),
      fc.tuple(anyCase('MOVE'), encoded('Trash')).map(([c, m]) => `${c} 1:* ${m}`),
      fc.tuple(anyCase('UID MOVE'), encoded('Trash')).map(([c, m]) => `${c} 1 ${m}`),
      fc.tuple(anyCase('DELETE'), encoded('INBOX')).map(([c, m]) => `${c} ${m}`),
      fc.tuple(anyCase('RENAME'), encoded('INBOX'), encoded('Old')).map(([c, a, b]) => `${c} ${a} ${b}`),
      fc.tuple(anyCase('SETACL'), encoded('INBOX')).map(([c, m]) => `${c} ${m} bob +te`),
      fc.tuple(anyCase('SETMETADATA'), encoded('INBOX')).map(([c, m]) => `${c} ${m} (/shared/x NIL)`),
    );
    fc.assert(
      fc.property(destructive, fc.integer({ min: 1, max: 8 }), (command, chunk) => {
        const out = runGateway(`t1 ${command}\r\n`, { restricted: true, chunks: [chunk] });
        expect(relayed(out), command).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
