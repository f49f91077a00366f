/**
 * Property tests through a real gateway and the real store: random and mutated command streams in a
 * restricted session never crash the gateway, never remove a message, folder or ACL, never set
 * \Deleted, and never make the gateway send the store a command the restricted policy refuses (the
 * bytes the gateway sent upstream are re-read with a literal-aware parser to check).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandReader } from '../../../gateway/imap/command-reader.js';
import { parseCommand } from '../../../gateway/imap/parse-command.js';
import { checkRestrictedCommand } from '../../../gateway/imap/restricted-policy.js';
import { type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { fillMailbox, rawSession, snapshotMailbox, type StoreSnapshot } from '../../helpers/mailstore.js';
import { RawClient, createMailUser, startLiveGateway, startStoreProxy, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let proxy: Awaited<ReturnType<typeof startStoreProxy>>;
let gateway: RunningImapGateway;
let user: MailUser;
let before: StoreSnapshot;

beforeAll(async () => {
  live = await startLiveGateway();
  const upstream = live.ctx.config.UPSTREAM_IMAP!;
  proxy = await startStoreProxy(upstream);
  // No store-side backstop: only the gateway's policy stands between the stream and the mail.
  const config = {
    ...live.ctx.config,
    UPSTREAM_IMAP: { host: '127.0.0.1', port: proxy.port },
    UPSTREAM_RESTRICTED_MASTER_USER: undefined,
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined,
  };
  gateway = await startImapGateway({ ...live.ctx, config }, { host: '127.0.0.1', port: 0 });
  user = await createMailUser(live.ctx, 'prop');
  await fillMailbox(user.username, { INBOX: 3, Keep: 1 });
  await rawSession(user.username, ['SELECT INBOX', 'STORE 3 +FLAGS (\\Deleted)', 'UNSELECT']);
  before = await snapshotMailbox(user.username);
});
afterAll(async () => {
  await gateway.close();
  await proxy.close();
  await live.close();
});

const word = (w: string) => fc.constantFrom(w, w.toLowerCase(), w[0] + w.slice(1).toLowerCase());
const names = fc.oneof(
  ...['EXPUNGE', 'UID EXPUNGE', 'STORE', 'UID STORE', 'MOVE', 'UID MOVE', 'DELETE', 'RENAME', 'SETACL', 'DELETEACL',
    'SETMETADATA', 'SETQUOTA', 'REPLACE', 'RESETKEY', 'FILTER', 'CLOSE', 'NOOP', 'CHECK', 'FETCH', 'SEARCH', 'SELECT',
    'EXAMINE', 'IDLE', 'DONE', 'UNSELECT', 'COMPRESS', 'UNAUTHENTICATE', 'ENABLE', 'ID', 'LIST', 'STATUS', 'LOGIN', 'XFOO'].map(word),
);
const args = fc.constantFrom(
  '1', '1:*', '3', '$', '+FLAGS', 'FLAGS', '-FLAGS', '+FLAGS.SILENT', 'FLAGS.SILENT', '(\\Deleted)', '\\Deleted', '\\deleted',
  '(\\Seen \\Deleted)', '"+FLAGS"', '"\\\\Deleted"', 'INBOX', 'inbox', 'Keep', '"Keep"', '{4+}\r\nKeep', '{6+}\r\n+FLAGS',
  '{12+}\r\nb EXPUNGE\r\n', '(UNCHANGEDSINCE 1)', '""', 'NIL', '(', ')', '"\\"', '{3}\r\n', '~{5+}\r\nhello', 'DEFLATE',
  '(/private/comment NIL)', 'anyone', 'lrswipkxte', '(STORAGE 1)', 'BODY[]', '(FLAGS)',
);
const ends = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r', '\r\n\r\n', '\0\r\n');
const tags = fc.constantFrom('a', 'b1', 'x.y', '*', '+', '');
const command = fc.tuple(tags, names, fc.array(args, { maxLength: 4 }), ends).map(([t, n, a, e]) => `${t} ${[n, ...a].join(' ')}${e}`);
/** A stream: commands, then a few bytes flipped to protocol-significant characters. */
const stream = fc
  .tuple(fc.array(command, { minLength: 1, maxLength: 12 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', '\0', '{', '}', '"', ' ', '+', '(', ')')), { maxLength: 4 }))
  .map(([commands, flips]) => {
    const chars = [...commands.join('')];
    for (const [at, c] of flips) chars.splice(at % (chars.length + 1), 0, c);
    return chars.join('');
  });

/** Commands the gateway sent upstream, read back with the gateway's own literal-aware reader. */
function commandsSentUpstream(bytes: Buffer[]): string[] {
  const reader = new CommandReader({ maxMessageSize: 1 << 30 });
  for (const b of bytes) reader.push(b);
  const names: string[] = [];
  for (let e = reader.next(); e; e = reader.next()) {
    if (e.type === 'literal') {
      if (e.literal.size <= 64 * 1024) reader.collectLiteral();
      else reader.streamLiteral();
    } else if (e.type === 'command') {
      const parsed = parseCommand(e.parts);
      if (parsed.ok) {
        names.push(parsed.command.name);
        // The login exchange (ID, AUTHENTICATE as master) is the gateway's own.
        if (!['ID', 'AUTHENTICATE'].includes(parsed.command.name)) expect(checkRestrictedCommand(parsed.command).action, parsed.command.name).toBe('allow');
      }
    }
  }
  return names;
}

describe('random command streams in a restricted session', () => {
  it('never crash the gateway, never destroy mail, never send a refused command upstream', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), async (input, chunks) => {
        const c = await RawClient.connect(gateway.port);
        expect(await c.login(user.username, user.restrictedApp)).toMatch(/^L1 OK/);
        await c.command('S1', 'SELECT INBOX');
        const bytes = Buffer.from(input, 'latin1');
        for (let i = 0, k = 0; i < bytes.length; k++) {
          const n = chunks[k % chunks.length]!;
          c.send(bytes.subarray(i, i + n));
          i += n;
          await new Promise((r) => setImmediate(r));
        }
        // Let the gateway answer what it can, then leave.
        let seen = -1;
        while (seen !== c.text.length && !c.closed) {
          seen = c.text.length;
          await new Promise((r) => setTimeout(r, 60));
        }
        c.close();
      }),
      { numRuns: 25 },
    );
    await expect.poll(() => proxy.sessions().length).toBe(0);
    for (const log of proxy.sent) commandsSentUpstream(log);
    expect(proxy.sent.flatMap((log) => commandsSentUpstream(log))).toContain('SELECT');

    const after = await snapshotMailbox(user.username);
    expect(after.acl).toEqual(before.acl);
    for (const folder of before.folders) expect(after.folders).toContain(folder);
    for (const [folder, messages] of Object.entries(before.messages)) {
      const now = after.messages[folder]!;
      for (const m of messages) expect(now.map((x) => x.uid)).toContain(m.uid);
      // Only message 3 was \Deleted before, and it may have lost the flag (-FLAGS), never the others gained it.
      for (const m of now) if (!(folder === 'INBOX' && m.uid === 3)) expect(m.flags).not.toContain('\\Deleted');
    }
    // Still serving.
    const probe = await RawClient.connect(gateway.port);
    expect(await probe.command('p', 'NOOP')).toBe('p OK NOOP completed');
    probe.close();
  });
});
