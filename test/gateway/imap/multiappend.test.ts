/**
 * MULTIAPPEND (RFC 3502) through the gateway against the real Dovecot, and what happens when the gateway
 * cannot take a command: a tagged answer, the connection kept, and the store checked directly each time
 * (a refused MULTIAPPEND must leave none of its messages, RFC 3502 §6.3.11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotMailbox } from '../../helpers/mailstore.js';
import { type LiveGateway, type MailUser, RawClient, createMailUser, startLiveGateway } from './live-gateway.js';

let gw: LiveGateway;

beforeAll(async () => {
  // Without the restricted master user: the gateway's own policy must hold (the store would let it all pass).
  gw = await startLiveGateway({ env: { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined } });
});

afterAll(async () => {
  await gw?.close();
});

function message(i: number, size = 200): string {
  const head = `From: a@example.test\r\nSubject: multi ${i}\r\n\r\n`;
  return head + 'y'.repeat(Math.max(0, size - head.length - 2)) + '\r\n';
}

async function session(user: MailUser, restricted: boolean): Promise<RawClient> {
  const c = await RawClient.connect(gw.port);
  const ok = await c.login(user.username, restricted ? user.restrictedApp : user.app);
  expect(ok).toMatch(/^L1 OK/);
  return c;
}

async function inbox(user: MailUser): Promise<Array<{ flags: string[] }>> {
  return (await snapshotMailbox(user.username)).messages.INBOX ?? [];
}

describe('MULTIAPPEND through the gateway', () => {
  it('is advertised after login and stores every message, with its own flags (sync and {n+} literals)', async () => {
    const user = await createMailUser(gw.ctx, 'multi');
    const c = await session(user, false);
    expect(await c.command('C1', 'CAPABILITY')).toMatch(/^C1 OK/);
    expect(c.text).toMatch(/^\* CAPABILITY .*\bMULTIAPPEND\b/m);
    const [m1, m2, m3] = [message(1), message(2, 9000), message(3)];
    c.send(`A1 APPEND INBOX (\\Seen) {${m1.length}}\r\n`);
    await c.waitFor(/^\+ /);
    c.send(`${m1} (\\Flagged) "03-Dec-2026 10:00:00 +0000" {${m2.length}+}\r\n${m2} {${m3.length}}\r\n`);
    await c.waitFor(/^\+ [^\r]*\r\n(?:[^]*)^\+ /);
    c.send(`${m3}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 OK/);
    const stored = await inbox(user);
    expect(stored).toHaveLength(3);
    expect(stored.map((m) => m.flags.filter((f) => f !== '\\Recent'))).toEqual([['\\Seen'], ['\\Flagged'], []]);
    expect(await c.command('N1', 'NOOP')).toMatch(/^N1 OK/);
    c.close();
  });

  it('restricted: one message marked \\Deleted refuses the whole command; nothing is stored and the stream stays in step', async () => {
    const user = await createMailUser(gw.ctx, 'multir');
    const c = await session(user, true);
    const planted = 'B1 DELETE INBOX\r\n'.repeat(20);
    c.send(`A1 APPEND INBOX (\\Seen) {${message(1).length}+}\r\n${message(1)} (\\Deleted) {${planted.length}+}\r\n${planted} {5+}\r\nhello\r\nA2 NOOP\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 NO \[NOPERM\].*deleted/i);
    expect(await c.tagged('A2')).toMatch(/^A2 OK/);
    expect(c.text).not.toMatch(/^B1 /m);
    expect(c.closed).toBe(false);
    expect(await inbox(user)).toEqual([]);
    // Allowed messages still go in, several in one command.
    c.send(`A3 APPEND INBOX {${message(3).length}+}\r\n${message(3)} (\\Seen) {${message(4).length}+}\r\n${message(4)}\r\n`);
    expect(await c.tagged('A3')).toMatch(/^A3 OK/);
    expect(await inbox(user)).toHaveLength(2);
    c.close();
  });

  it('restricted: a second message refused with a synchronizing literal gets NO instead of +, and the first is not stored', async () => {
    const user = await createMailUser(gw.ctx, 'multis');
    const c = await session(user, true);
    c.send(`A1 APPEND INBOX {${message(1).length}+}\r\n${message(1)} (\\Deleted \\Seen) {100}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 NO /);
    expect(c.text).not.toMatch(/^\+ /m);
    expect(await c.command('A2', 'NOOP')).toMatch(/^A2 OK/);
    expect(await inbox(user)).toEqual([]);
    c.close();
  });

  it('unrestricted: a message over APPENDLIMIT refuses the whole command, its {n+} bytes read and dropped', async () => {
    const user = await createMailUser(gw.ctx, 'multib');
    const c = await session(user, false);
    const limit = Number(/APPENDLIMIT=(\d+)/.exec(c.text)?.[1] ?? (await c.command('C1', 'CAPABILITY'), /APPENDLIMIT=(\d+)/.exec(c.text)![1]));
    // The second literal announces more than the limit: refused before a byte of it is read.
    c.send(`A1 APPEND INBOX {${message(1).length}+}\r\n${message(1)} {${limit + 1}}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 NO \[TOOBIG\]/);
    expect(await c.command('A2', 'NOOP')).toMatch(/^A2 OK/);
    expect(await inbox(user)).toEqual([]);
    c.close();
  });
});

describe('commands the gateway does not take keep the connection', () => {
  it('junk after an APPEND message: tagged BAD, nothing stored, the next command runs', async () => {
    const user = await createMailUser(gw.ctx, 'junk');
    const c = await session(user, false);
    c.send(`A1 APPEND INBOX {${message(1).length}+}\r\n${message(1)} JUNK\r\nA2 NOOP\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 BAD Malformed APPEND/);
    expect(await c.tagged('A2')).toMatch(/^A2 OK/);
    expect(c.text).not.toMatch(/^\* BYE/m);
    expect(await inbox(user)).toEqual([]);
    c.close();
  });

  it('CATENATE, URLAUTH commands and NOTIFY are answered BAD; the session goes on; nothing is stored', async () => {
    const user = await createMailUser(gw.ctx, 'notoffer');
    for (const restricted of [false, true]) {
      const c = await session(user, restricted);
      expect(await c.command('A1', 'APPEND INBOX CATENATE (TEXT {5+}\r\nhello)')).toMatch(/^A1 BAD/);
      // A restricted session's policy answers first (NO [NOPERM]); a full one hears they are not offered.
      const notOffered = restricted ? 'NO \\[NOPERM\\]' : 'BAD';
      expect(await c.command('A2', 'GENURLAUTH "imap://x/INBOX;uid=1;urlauth=anonymous" INTERNAL')).toMatch(new RegExp(`^A2 ${notOffered}`));
      expect(await c.command('A3', 'URLFETCH "imap://x/INBOX;uid=1"')).toMatch(new RegExp(`^A3 ${notOffered}`));
      expect(await c.command('A4', 'RESETKEY')).toMatch(new RegExp(`^A4 ${notOffered}`));
      expect(await c.command('A5', 'NOTIFY SET (selected MessageNew)')).toMatch(/^A5 BAD/);
      expect(await c.command('A6', 'NOOP')).toMatch(/^A6 OK/);
      expect(c.closed).toBe(false);
      c.close();
    }
    expect(await inbox(user)).toEqual([]);
  });
});
