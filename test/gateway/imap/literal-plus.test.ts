/**
 * LITERAL+ (RFC 7888) after login, against the real Dovecot: APPENDs sent without waiting for a
 * continuation arrive whole; a refused one is read and dropped and the stream stays in step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotMailbox } from '../../helpers/mailstore.js';
import { type LiveGateway, type MailUser, RawClient, createMailUser, startLiveGateway } from './live-gateway.js';

/** APPENDLIMIT for this file: above every message and argument the tests send (the 64 KiB argument limit too), below the APPEND it must refuse. */
const MAX_MESSAGE = 100_000;
let gw: LiveGateway;
let user: MailUser;

beforeAll(async () => {
  gw = await startLiveGateway({
    env: { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined, MAX_MESSAGE_SIZE: String(MAX_MESSAGE) },
  });
  user = await createMailUser(gw.ctx, 'litplus');
});

afterAll(async () => {
  await gw?.close();
});

function message(i: number, size: number): string {
  const head = `From: a@example.test\r\nSubject: lit ${i}\r\n\r\n`;
  return head + 'x'.repeat(size - head.length - 2) + '\r\n';
}

describe('LITERAL+ through the gateway', () => {
  it('APPENDs pipelined {n+} messages, small and over 4 KiB, without continuations', async () => {
    const c = await RawClient.connect(gw.port);
    expect(await c.login(user.username, user.app)).toMatch(/LITERAL\+/);
    const sizes = [200, 5000, 300, 20_000];
    c.send(sizes.map((size, i) => `A${i} APPEND INBOX {${size}+}\r\n${message(i, size)}\r\n`).join(''));
    for (let i = 0; i < sizes.length; i++) expect(await c.tagged(`A${i}`)).toMatch(new RegExp(`^A${i} OK`));
    expect(c.text).not.toMatch(/^\+ /m);
    const snap = await snapshotMailbox(user.username);
    expect(snap.messages.INBOX).toHaveLength(sizes.length);
    c.close();
  });

  it('an oversized {n+} argument is read and dropped whole, refused, and the next command runs', async () => {
    const before = await snapshotMailbox(user.username);
    const c = await RawClient.connect(gw.port);
    await c.login(user.username, user.restrictedApp);
    expect(await c.command('S1', 'SELECT INBOX')).toMatch(/^S1 OK/);
    // Over the 64 KiB argument limit, and holding command lines: dropped as literal bytes, never read as protocol.
    const planted = 'B1 UID EXPUNGE 1:*\r\n'.repeat(4000);
    c.send(`A1 SEARCH TEXT {${planted.length}+}\r\n${planted}\r\nA2 NOOP\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 BAD \[TOOBIG\]/);
    expect(await c.tagged('A2')).toMatch(/^A2 OK/);
    expect(c.text).not.toMatch(/^B1 /m);
    expect(await snapshotMailbox(user.username)).toEqual(before);
    c.close();
  });

  it('an APPEND {n+} over APPENDLIMIT is refused and the connection closed (nothing stored, nothing read beyond the limit)', async () => {
    const u = await createMailUser(gw.ctx, 'litbig');
    const c = await RawClient.connect(gw.port);
    await c.login(u.username, u.app);
    const size = MAX_MESSAGE + 10_000;
    c.send(`A1 APPEND INBOX {${size}+}\r\n${message(1, size)}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 BAD \[TOOBIG\]/);
    await c.waitClosed();
    expect((await snapshotMailbox(u.username)).messages.INBOX).toEqual([]);
  });
});
