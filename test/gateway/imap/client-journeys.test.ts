/**
 * A real mail client (imapflow) through the gateway against the real Dovecot: every way of logging in,
 * and the everyday commands of an unrestricted session, checked on the store directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { fillMailbox, sampleMessage, snapshotMailbox, storeClient } from '../../helpers/mailstore.js';
import { grantPersonalCredits, lastSmsCode } from '../../src/auth/fixtures.js';
import {
  RawClient,
  createMailUser,
  createOneTimeList,
  createUserChosenLogin,
  gatewayClient,
  startLiveGateway,
  type LiveGateway,
  type MailUser,
} from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;

beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx);
  await fillMailbox(user.username, { INBOX: 5, Archive: 2 });
});
afterAll(() => live.close());

describe('logging in from a mail client', () => {
  it('greets with its own capabilities, then shows the store\'s filtered ones after login', async () => {
    const c = await RawClient.connect(live.port);
    expect(c.text).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 LITERAL- ID SASL-IR AUTH=PLAIN AUTH=LOGIN\] /);
    const ok = await c.login(user.username, user.password);
    expect(ok).toMatch(/^L1 OK \[CAPABILITY [^\]]*IMAP4rev1[^\]]*\] Logged in$/);
    expect(ok).not.toMatch(/AUTH=|SASL-IR|STARTTLS|LOGINDISABLED|COMPRESS|UNAUTHENTICATE|LITERAL-|LOGIN-REFERRALS/);
    expect(ok).toMatch(/ LITERAL\+ /);
    await c.command('c1', 'CAPABILITY');
    expect(c.text).toMatch(/^\* CAPABILITY IMAP4rev1 .*LITERAL\+ APPENDLIMIT=\d+\r\n/m);
    expect(await c.command('a3', 'LOGOUT')).toMatch(/^a3 OK/);
    expect(c.text).toMatch(/^\* BYE /m);
    await c.waitClosed();
  });

  it('opens the same mailbox with the main password and with an app password', async () => {
    for (const pass of [user.password, user.app]) {
      const client = await gatewayClient(live.port, user.username, pass);
      const box = await client.mailboxOpen('INBOX', { readOnly: true });
      expect(box.exists).toBe(5);
      await client.logout();
    }
  });

  it('takes a one-time code once and refuses it the second time', async () => {
    const { codes } = await createOneTimeList(live.ctx, { userId: user.userId, count: 2, services: ['imap'] });
    const client = await gatewayClient(live.port, user.username, codes[0]!.code);
    await client.logout();
    const c = await RawClient.connect(live.port);
    expect(await c.login(user.username, codes[0]!.code)).toBe('L1 NO [AUTHENTICATIONFAILED] Authentication failed');
    c.close();
  });

  it('answers an SMS password with an alert saying where the code went, then takes password + code', async () => {
    await createUserChosenLogin(live.ctx, { userId: user.userId, kind: 'sms', secret: 'sms-secret-password', services: ['imap'] });
    await grantPersonalCredits(live.ctx, user.userId, 3);
    const c = await RawClient.connect(live.port);
    const answer = Buffer.from(await c.login(user.username, 'sms-secret-password'), 'latin1').toString('utf8');
    expect(answer).toMatch(/^L1 NO \[ALERT\] A login code was sent by SMS to •••• ••78\. Log in again with your SMS password immediately followed by the code/);
    expect(await c.login(user.username, `sms-secret-password${await lastSmsCode(live.ctx)}`, 'L2')).toMatch(/^L2 OK \[CAPABILITY /);
    c.close();
  });

  it('refuses a wrong password with the generic answer and reaches no store', async () => {
    const c = await RawClient.connect(live.port);
    expect(await c.login(user.username, 'not-the-password')).toBe('L1 NO [AUTHENTICATIONFAILED] Authentication failed');
    expect(await c.login('nobody-here', 'whatever-password', 'L2')).toBe('L2 NO [AUTHENTICATIONFAILED] Authentication failed');
    expect(await c.command('L3', 'SELECT INBOX')).toMatch(/^L3 BAD /);
    c.close();
  });

  it('refuses a username carrying the master separator without asking anyone', async () => {
    const c = await RawClient.connect(live.port);
    expect(await c.login(`${user.username}*postern-gateway`, user.password)).toBe('L1 NO [AUTHENTICATIONFAILED] Authentication failed');
    c.close();
  });

  it('writes no password into the audit log', async () => {
    const events = await listAuditEvents(live.ctx.db, { userId: user.userId, limit: 200 });
    const text = JSON.stringify(events);
    expect(events.some((e) => e.event === 'login.succeeded' && e.service === 'imap')).toBe(true);
    for (const secret of [user.password, user.app, 'sms-secret-password']) expect(text).not.toContain(secret);
  });
});

describe('an unrestricted session', () => {
  it('lists, selects, searches, fetches, flags, copies, appends and expunges through the gateway', async () => {
    const u = await createMailUser(live.ctx, 'full');
    await fillMailbox(u.username, { INBOX: 4, Keep: 0 });
    const client = await gatewayClient(live.port, u.username, u.app);
    try {
      const folders = (await client.list()).map((f) => f.path).sort();
      expect(folders).toEqual(['INBOX', 'Keep']);
      await client.mailboxOpen('INBOX');
      expect(await client.search({ subject: 'Message 3' })).toEqual([3]);
      const msg = await client.fetchOne('2', { source: true, envelope: true });
      expect(msg && msg.source?.toString()).toContain('Message body 2');
      await client.messageFlagsAdd('1', ['\\Flagged']);
      await client.messageCopy('1:2', 'Keep');
      await client.append('Keep', sampleMessage(99, 'appended through Postern\r\n'), ['\\Seen']);
      await client.messageDelete('4'); // STORE \Deleted + EXPUNGE
      await client.mailboxClose();
    } finally {
      await client.logout();
    }
    const snap = await snapshotMailbox(u.username);
    expect(snap.messages.INBOX!.map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(snap.messages.INBOX![0]!.flags).toEqual(['\\Flagged']);
    expect(snap.messages.Keep).toHaveLength(3);
    const store = await storeClient(u.username);
    await store.mailboxOpen('Keep');
    const appended = await store.fetchOne('3', { source: true });
    expect(appended && appended.source?.toString()).toContain('appended through Postern');
    await store.logout();
  });

  it('relays IDLE: new mail shows up, and commands pipelined right after DONE run', async () => {
    const u = await createMailUser(live.ctx, 'idle');
    await fillMailbox(u.username, { INBOX: 1 });
    const c = await RawClient.connect(live.port);
    await c.login(u.username, u.app);
    await c.command('s1', 'SELECT INBOX');
    c.send('i1 IDLE\r\n');
    await c.waitFor(/^\+ .*\r\n/);
    const store = await storeClient(u.username);
    await store.append('INBOX', sampleMessage(2));
    await store.logout();
    await c.waitFor(/^\* 2 EXISTS\r\n/);
    c.send('DONE\r\nn1 NOOP\r\nf1 FETCH 2 (FLAGS)\r\n');
    expect(await c.tagged('i1')).toMatch(/^i1 OK/);
    expect(await c.tagged('n1')).toMatch(/^n1 OK/);
    expect(await c.tagged('f1')).toMatch(/^f1 OK/);
    expect(c.text).toMatch(/^\* 2 FETCH \(FLAGS/m);
    c.close();
  });

  it('streams a large APPEND and FETCH through unchanged', async () => {
    const u = await createMailUser(live.ctx, 'big');
    const body = Buffer.alloc(3 * 1024 * 1024, 'x\r\nA1 OK fake\r\n* CAPABILITY COMPRESS=DEFLATE\r\n');
    const message = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), body]);
    const client = await gatewayClient(live.port, u.username, u.password);
    await client.append('INBOX', message);
    await client.mailboxOpen('INBOX');
    const fetched = await client.fetchOne('1', { source: true });
    await client.logout();
    expect(fetched && Buffer.compare(fetched.source!, message)).toBe(0);
  });

  it('relays large messages byte for byte to a slow reader while a fast one reads at the same time', async () => {
    // The gateway reuses its store read buffers; one still queued for a slow client must never be
    // overwritten by another session's reads.
    const u = await createMailUser(live.ctx, 'bigpair');
    const messages = ['a', 'b'].map((c) => Buffer.concat([Buffer.from(`Subject: ${c}\r\n\r\n`), Buffer.alloc(4 * 1024 * 1024, `${c.repeat(61)}${c}\r\n`)]));
    const store = await storeClient(u.username);
    for (const m of messages) await store.append('INBOX', m);
    await store.logout();
    const slow = await gatewayClient(live.port, u.username, u.password);
    const fast = await gatewayClient(live.port, u.username, u.password);
    await slow.mailboxOpen('INBOX');
    await fast.mailboxOpen('INBOX');
    const slowFetch = slow.fetchOne('1', { source: true });
    const slowSocket = (slow as unknown as { socket: import('node:net').Socket }).socket;
    slowSocket.pause();
    const fastResults: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fast.fetchOne('2', { source: true });
      fastResults.push(r ? r.source! : Buffer.alloc(0));
    }
    slowSocket.resume();
    const slowResult = await slowFetch;
    await slow.logout();
    await fast.logout();
    expect(Buffer.compare(slowResult ? slowResult.source! : Buffer.alloc(0), messages[0]!)).toBe(0);
    for (const r of fastResults) expect(Buffer.compare(r, messages[1]!)).toBe(0);
  });
});
