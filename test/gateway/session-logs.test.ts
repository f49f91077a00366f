/** Every log line of an IMAP or SMTP session names the session (pino child logger), one id per connection. */
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImapGateway, type RunningImapGateway } from '../../gateway/imap/server.js';
import { startSmtpSubmission, type RunningSubmission } from '../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { RawClient, createMailUser, type MailUser } from './imap/live-gateway.js';

type Line = Record<string, unknown> & { msg: string };
const lines: Line[] = [];
let ctx: TestContext;
let imap: RunningImapGateway;
let smtp: RunningSubmission;
let user: MailUser;

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  imap = await startImapGateway(ctx, { host: '127.0.0.1', port: 0 });
  smtp = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: 9 }, closeTimeoutMs: 200 });
  user = await createMailUser(ctx, 'lg');
});
afterAll(async () => {
  await imap?.close();
  await smtp?.close();
  await ctx?.close();
});

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`log lines so far:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('session ids in the logs', () => {
  it('IMAP: opened and closed lines of one connection share an id that no other connection has', async () => {
    const ids: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const from = lines.length;
      const c = await RawClient.connect(imap.port);
      expect(await c.login(user.username, user.app)).toMatch(/^L1 OK/);
      c.close();
      // Lines of the previous connection (its store session parked, then logged out) may still arrive in
      // this window: follow this connection by the id on its "opened" line.
      const openedLine = () => lines.slice(from).find((l) => l.protocol === 'imap' && l.msg === 'imap connection opened');
      await until(() => lines.slice(from).some((l) => l.msg === 'imap connection closed' && l.session === openedLine()?.session));
      const opened = openedLine();
      expect(opened?.session).toBeTruthy();
      const mine = lines.slice(from).filter((l) => l.protocol === 'imap' && l.session === opened!.session);
      expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['imap connection opened', 'imap connection closed']));
      ids.push(opened!.session);
    }
    expect(typeof ids[0]).toBe('string');
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('SMTP: the refused AUTH is logged with the session id of its connection', async () => {
    const from = lines.length;
    const c = new RawClient(net.connect({ port: smtp.port, host: '127.0.0.1' }));
    await c.waitFor(/^220 /);
    c.send('EHLO x\r\n');
    await c.waitFor(/^250 /);
    c.send(`AUTH PLAIN ${Buffer.from(`\0${user.username}\0wrong`).toString('base64')}\r\n`);
    await c.waitFor(/^535 /);
    c.close();
    await until(() => lines.slice(from).some((l) => l.msg === 'smtp connection closed'));
    const mine = lines.slice(from).filter((l) => l.protocol === 'smtp');
    expect(mine.map((l) => l.msg)).toEqual(['smtp connection opened', 'smtp authentication refused', 'smtp connection closed']);
    expect(new Set(mine.map((l) => l.session)).size).toBe(1);
    expect(JSON.stringify(lines)).not.toContain('wrong');
  });
});
