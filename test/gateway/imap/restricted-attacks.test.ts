/**
 * The attack suite: a hostile client in a restricted session tries every command and spelling that
 * could delete or damage mail, and every way of smuggling one past the gateway. Each attempt is checked
 * twice: the answer the client gets, and a snapshot of the store taken directly (messages, flags,
 * folders, ACLs) showing nothing changed.
 *
 * It runs twice: with the store-side backstop (restricted master user, ACLs that forbid expunge) and
 * without it (the gateway logs restricted sessions in as the full master), which proves the gateway's
 * own policy holds alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit.js';
import { type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { listAuditEvents } from '../../../src/audit.js';
import { fillMailbox, rawSession, snapshotMailbox, type StoreSnapshot } from '../../helpers/mailstore.js';
import { RawClient, createMailUser, selfSignedCertificate, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';
import { runTranscript } from './transcript.js';

let live: LiveGateway;
let fullMasterGateway: RunningImapGateway;
const cert = selfSignedCertificate();

beforeAll(async () => {
  live = await startLiveGateway({ gateway: { tls: cert, imapsPort: 0 } });
  const config = { ...live.ctx.config, UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined };
  fullMasterGateway = await startImapGateway({ ...live.ctx, config }, { host: '127.0.0.1', port: 0, tls: cert, imapsPort: 0 });
});
afterAll(async () => {
  await fullMasterGateway.close();
  await live.close();
});

/** Aggregated `imap.command-blocked` rows (refusal-audit.ts) of a user, once the sessions have ended. */
async function blockedRows(userId: number, atLeast: number): Promise<AuditEvent[]> {
  const read = () => listAuditEvents(live.ctx.db, { userId, events: ['imap.command-blocked'], limit: 100 });
  await expect.poll(async () => refusedCount(await read()), { timeout: 5000 }).toBeGreaterThanOrEqual(atLeast);
  return read();
}

function refusedCount(rows: AuditEvent[]): number {
  return rows.reduce((sum, row) => sum + (row.details as { count: number }).count, 0);
}

/** A user whose INBOX has three messages, the third already flagged \Deleted by another client. */
async function victim(prefix: string): Promise<{ user: MailUser; before: StoreSnapshot }> {
  const user = await createMailUser(live.ctx, prefix);
  await fillMailbox(user.username, { INBOX: 3, Keep: 1 });
  await rawSession(user.username, ['SELECT INBOX', 'STORE 3 +FLAGS (\\Deleted)', 'UNSELECT']);
  const before = await snapshotMailbox(user.username);
  expect(before.messages.INBOX!.map((m) => m.flags)).toEqual([[], [], ['\\Deleted']]);
  return { user, before };
}

describe.each([
  { backstop: 'with the restricted master user on the store', port: () => live.port },
  { backstop: 'without any store-side backstop (full master user)', port: () => fullMasterGateway.port },
])('restricted session $backstop', ({ port }) => {
  async function restrictedSession(user: MailUser): Promise<RawClient> {
    const c = await RawClient.connect(port());
    const ok = await c.login(user.username, user.restrictedApp);
    expect(ok).toMatch(/^L1 OK \[CAPABILITY /);
    expect(ok).not.toMatch(/METADATA|QUOTASET/);
    expect(await c.command('S1', 'SELECT INBOX')).toMatch(/^S1 OK/);
    return c;
  }

  it('refuses every destructive command and spelling, and CLOSE expunges nothing', async () => {
    const { user, before } = await victim('atk');
    for (const transcript of ['restricted-refusals.txt', 'restricted-damage.txt']) {
      const c = await restrictedSession(user);
      await runTranscript(c, transcript);
      c.close();
    }
    expect(await snapshotMailbox(user.username)).toEqual(before);
    // One row per session and reason, with a count: 30 refusals, far fewer rows.
    const blocked = await blockedRows(user.userId, 30);
    expect(blocked.length).toBeLessThan(30);
    expect(blocked.flatMap((e) => (e.details as { commands: string[] }).commands)).toContain('UID EXPUNGE');
    expect(JSON.stringify(blocked)).not.toMatch(/Deleted|Keep|gone|discard/);
  });

  it('cannot scrub flags and keywords, plant a \\Deleted message or unsubscribe folders', async () => {
    const user = await createMailUser(live.ctx, 'scr');
    await fillMailbox(user.username, { INBOX: 3, Keep: 1 });
    await rawSession(user.username, ['SELECT INBOX', 'STORE 1:2 +FLAGS (\\Seen \\Answered \\Flagged $Label1 Work)',
      'STORE 3 +FLAGS (\\Deleted)', 'UNSELECT', 'SUBSCRIBE INBOX', 'SUBSCRIBE Keep']);
    const before = await snapshotMailbox(user.username);
    expect(before.messages.INBOX![0]!.flags).toEqual(['$Label1', 'Work', '\\Answered', '\\Flagged', '\\Seen']);
    expect(before.subscribed).toEqual(['INBOX', 'Keep']);
    const c = await restrictedSession(user);
    await runTranscript(c, 'restricted-scrub.txt');
    // What a reader does is still allowed: mark unread, unflag.
    expect(await c.command('r1', 'STORE 2 -FLAGS (\\Seen \\Flagged)')).toMatch(/^r1 OK/);
    c.close();
    const after = await snapshotMailbox(user.username);
    expect(after.messages.INBOX![1]!.flags).toEqual(['$Label1', 'Work', '\\Answered']);
    after.messages.INBOX![1]!.flags = before.messages.INBOX![1]!.flags;
    expect(after).toEqual(before);
    const blocked = await blockedRows(user.userId, 18);
    expect(blocked.map((e) => (e.details as { reason: string }).reason).sort()).toEqual([
      'restricted.append-deleted', 'restricted.flag-remove', 'restricted.flag-syntax', 'restricted.flags-replace', 'restricted.unsubscribe',
    ]);
  });

  it('ends a session that keeps sending refused commands, with a handful of audit rows', async () => {
    const { user, before } = await victim('fld');
    const c = await restrictedSession(user);
    const started = Date.now();
    c.send(Array.from({ length: 200 }, (_, i) => `x${i} ${i % 2 ? 'EXPUNGE' : 'STORE 1 +FLAGS (\\Deleted)'}\r\n`).join(''));
    await c.waitFor(/^\* BYE Too many refused commands\r\n/);
    await c.waitClosed();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.text.match(/^x\d+ NO \[NOPERM\]/gm)).toHaveLength(20);
    expect(c.text).not.toMatch(/^x(2\d|[3-9]\d|1\d\d) /m);
    const blocked = await blockedRows(user.userId, 20);
    expect(refusedCount(blocked)).toBe(20);
    expect(blocked.length).toBe(2); // one per reason: expunge, flag-deleted
    expect(await snapshotMailbox(user.username)).toEqual(before);
  });

  it('sees through smuggling: literals, bare CR/LF, pipelined batches, commands after DONE', async () => {
    const { user, before } = await victim('smg');
    const c = await restrictedSession(user);
    await runTranscript(c, 'smuggling.txt');
    expect(await c.command('z1', 'NOOP')).toMatch(/^z1 OK/);
    c.close();
    expect(await snapshotMailbox(user.username)).toEqual(before);
  });

  it('judges commands pipelined behind LOGIN by the restricted session LOGIN creates', async () => {
    const { user, before } = await victim('pip');
    const c = await RawClient.connect(port());
    c.send(`L LOGIN ${user.username} ${user.restrictedApp}\r\nS SELECT INBOX\r\nX EXPUNGE\r\nY STORE 1:* +FLAGS (\\Deleted)\r\nZ CLOSE\r\n`);
    expect(await c.tagged('L')).toMatch(/^L OK/);
    expect(await c.tagged('S')).toMatch(/^S OK/);
    expect(await c.tagged('X')).toMatch(/^X NO \[NOPERM\]/);
    expect(await c.tagged('Y')).toMatch(/^Y NO \[NOPERM\]/);
    expect(await c.tagged('Z')).toMatch(/^Z OK/);
    c.close();
    expect(await snapshotMailbox(user.username)).toEqual(before);
  });

  it('runs nothing that was pipelined before STARTTLS or behind a refused COMPRESS', async () => {
    const { user, before } = await victim('tls');
    const c = await RawClient.connect(port());
    c.send(`T STARTTLS\r\nL LOGIN ${user.username} ${user.restrictedApp}\r\nS SELECT INBOX\r\nX EXPUNGE\r\n`);
    await c.tagged('T');
    const s = await c.upgrade();
    expect(await s.command('A', 'SELECT INBOX')).toMatch(/^A BAD /);
    await s.login(user.username, user.restrictedApp, 'L2');
    await s.command('S2', 'SELECT INBOX');
    s.send('C COMPRESS DEFLATE\r\nX2 EXPUNGE\r\n');
    expect(await s.tagged('C')).toMatch(/^C NO \[CANNOT\]/);
    expect(await s.tagged('X2')).toMatch(/^X2 NO \[NOPERM\]/);
    expect(s.text + c.text).not.toMatch(/^(L|S|X) /m);
    s.close();
    expect(await snapshotMailbox(user.username)).toEqual(before);
  });

  it('still reads, searches, flags, copies, appends and creates', async () => {
    const { user } = await victim('use');
    const c = await restrictedSession(user);
    expect(await c.command('f', 'FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).toMatch(/^f OK/);
    expect(await c.command('s', 'UID SEARCH SUBJECT "Message 2"')).toMatch(/^s OK/);
    expect(c.text).toMatch(/^\* SEARCH 2\r\n/m);
    expect(await c.command('t', 'STORE 1 +FLAGS (\\Seen \\Flagged $Important)')).toMatch(/^t OK/);
    expect(await c.command('u', 'STORE 2 -FLAGS (\\Flagged)')).toMatch(/^u OK/);
    expect(await c.command('v', 'STORE 3 -FLAGS (\\Deleted)')).toMatch(/^v NO \[NOPERM\]/);
    expect(await c.command('k', 'COPY 1 Keep')).toMatch(/^k OK/);
    // Creating a folder destroys nothing: the gateway lets it pass and the backstop ACL (k) allows it.
    expect(await c.command('n', 'CREATE Fresh')).toMatch(/^n OK/);
    c.send('a APPEND Keep (\\Seen) {20}\r\n');
    await c.waitFor(/^\+ /);
    c.send('Subject: hi\r\n\r\nhello\r\n');
    expect(await c.tagged('a')).toMatch(/^a OK/);
    c.close();
    const after = await snapshotMailbox(user.username);
    expect(after.messages.INBOX![0]!.flags).toEqual(['$Important', '\\Flagged', '\\Seen']);
    expect(after.messages.Keep).toHaveLength(3);
    expect(after.folders).toContain('Fresh');
    expect(after.messages.Keep![2]!.flags).toEqual(['\\Seen']);
  });
});
