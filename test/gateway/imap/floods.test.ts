/**
 * Floods and exhaustion before login (issue #11), on loopback only and bounded in count and time:
 * connection caps, the pre-login deadline, the login-attempt cap, small pre-login literals, the web
 * answering while IMAP is full, and the flood summarised in one log line.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImapGateway, type ImapGatewayOptions } from '../../../gateway/imap/server.js';
import { createWebApp } from '../../../web/app.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;
beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx);
});
afterAll(() => live.close());

/** A gateway with its own settings and a log we can read. */
async function withGateway<T>(options: Partial<ImapGatewayOptions>, run: (port: number, logLines: () => string[]) => Promise<T>) {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  const gateway = await startImapGateway({ ...live.ctx, log }, { host: '127.0.0.1', port: 0, ...options });
  try {
    return await run(gateway.port, () => lines);
  } finally {
    await gateway.close();
  }
}

/** A raw connection from `localAddress`; resolves with its first line (greeting or BYE). */
function rawConnect(port: number, localAddress: string): Promise<{ socket: net.Socket; first: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const i = text.indexOf('\r\n');
      if (i >= 0) resolve({ socket, first: text.slice(0, i) });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ socket, first: text }));
  });
}

describe('connection caps', () => {
  it('refuses the connection past the per-address cap with BYE, and other addresses still get in; the flood is logged once', async () => {
    await withGateway({ connectionCaps: { total: 50, perAddress: 3 } }, async (port, logLines) => {
      const kept = await Promise.all([1, 2, 3].map(() => rawConnect(port, '127.0.0.2')));
      for (const k of kept) expect(k.first).toMatch(/^\* OK /);
      const refused = await Promise.all(Array.from({ length: 10 }, () => rawConnect(port, '127.0.0.2')));
      for (const r of refused) expect(r.first).toBe('* BYE [UNAVAILABLE] Too many connections; try again later');
      const other = await RawClient.connect(port, { localAddress: '127.0.0.3' });
      expect(await other.command('n1', 'NOOP')).toBe('n1 OK NOOP completed');
      // A closed connection gives its place back.
      kept[0]!.socket.destroy();
      await expect.poll(async () => (await rawConnect(port, '127.0.0.2')).first, { timeout: 5000 }).toMatch(/^\* OK /);
      for (const k of kept) k.socket.destroy();
      other.close();
      expect(logLines().filter((l) => l.includes('CONNECTIONS_REFUSED'))).toHaveLength(0);
    });
  });

  it('logs refused connections as one summary line per interval, not one per connection', async () => {
    let lines: string[] = [];
    await withGateway({ connectionCaps: { total: 2, perAddress: 2 } }, async (port, logLines) => {
      lines = logLines();
      const kept = await Promise.all([1, 2].map(() => rawConnect(port, '127.0.0.4')));
      const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => rawConnect(port, `127.0.1.${i + 1}`)));
      for (const r of refused) expect(r.first).toMatch(/^\* BYE /);
      for (const k of kept) k.socket.destroy();
    });
    // Closing the gateway writes the interval's summary.
    const summaries = lines.filter((l) => l.includes('CONNECTIONS_REFUSED'));
    expect(summaries).toHaveLength(1);
    expect(JSON.parse(summaries[0]!).msg).toBe('refused 20 imap connections from 20 addresses in the last 10 s');
  });

  it('web /healthz answers while IMAP is at its cap', async () => {
    await withGateway({ connectionCaps: { total: 20, perAddress: 20 } }, async (port) => {
      const full = await Promise.all(Array.from({ length: 20 }, () => rawConnect(port, '127.0.0.5')));
      expect((await rawConnect(port, '127.0.0.6')).first).toMatch(/^\* BYE \[UNAVAILABLE\]/);
      const web = await new Promise<{ close: () => void; port: number }>((resolve) => {
        const server = serve({ fetch: createWebApp(live.ctx).fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
          resolve({ port: info.port, close: () => server.close() }),
        );
      });
      try {
        const res = await fetch(`http://127.0.0.1:${web.port}/healthz`);
        expect(res.status).toBe(200);
      } finally {
        web.close();
        for (const f of full) f.socket.destroy();
      }
    });
  });
});

describe('before login', () => {
  it('closes a connection that trickles bytes but does not log in by the deadline', async () => {
    await withGateway({ preLoginDeadlineMs: 1500 }, async (port) => {
      const c = await RawClient.connect(port, { localAddress: '127.0.0.7' });
      const started = Date.now();
      const trickle = setInterval(() => c.send('n NOOP\r\n'), 200);
      try {
        await c.waitClosed(5000);
      } finally {
        clearInterval(trickle);
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(c.text).toMatch(/^\* BYE Autologout; not logged in within 2 seconds\r\n/m);
    });
  });

  it('answers the 4th LOGIN on one connection with BYE, without verifying it', async () => {
    const c = await RawClient.connect(live.port, { localAddress: '127.0.0.8' });
    for (let i = 1; i <= 3; i++) expect(await c.login(user.username, `wrong ${i}`, `L${i}`)).toMatch(new RegExp(`^L${i} NO \\[AUTHENTICATIONFAILED\\]`));
    c.send(`L4 LOGIN ${user.username} ${user.password}\r\n`);
    await c.waitClosed();
    expect(c.text).toMatch(/^\* BYE Too many login attempts on this connection\r\n/m);
    expect(c.text).not.toMatch(/^L4 /m);
  });

  it('refuses a 64 KiB literal, and an ID of many small literals, before login', async () => {
    const c = await RawClient.connect(live.port, { localAddress: '127.0.0.9' });
    expect(await c.command('a1', 'ID ("name" {65536}')).toBe('a1 NO [TOOBIG] Literal too large');
    // Four 4 KiB literals would be 16 KiB: the third is refused (8 KiB per command before login).
    c.send('a2 ID ("a" {4000}\r\n');
    await c.waitFor(/^\+ /);
    c.send(`${'x'.repeat(4000)} "b" {4000}\r\n`);
    await c.waitFor(/^\+ [^\r]*\r\n\+ /);
    c.send(`${'y'.repeat(4000)} "c" {4000}\r\n`);
    expect(await c.tagged('a2')).toBe('a2 NO [TOOBIG] Literal too large');
    // The connection is still usable, and a long line before login ends it.
    expect(await c.command('n1', 'NOOP')).toBe('n1 OK NOOP completed');
    c.send(`a3 ID ("name" "${'z'.repeat(10_000)}")\r\n`);
    await c.waitClosed();
    expect(c.text).toMatch(/^\* BYE \[LIMIT\] Command line too long\r\n/m);
    // After login the full limits apply again.
    const d = await RawClient.connect(live.port, { localAddress: '127.0.0.9' });
    expect(await d.login(user.username, user.password)).toMatch(/^L1 OK /);
    expect(await d.command('s1', `SEARCH TEXT "${'q'.repeat(10_000)}"`)).toMatch(/^s1 (OK|NO|BAD)/);
    expect(d.text).not.toMatch(/BYE/);
    d.close();
  });
});
