// SMTP's pre-login deadline (as IMAP's): a connection that has not authenticated within the deadline gets
// 421 and is closed, however much it talks meanwhile; time the gateway spends verifying a login does not
// count against the client.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../../src/auth/authenticate.js';
import { startSubmissionListener, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createSender } from './fixtures.js';

const DEADLINE_MS = 3000;
/** Longer than the whole deadline: if verifying counted, every slow login would be cut off. */
const VERIFY_MS = DEADLINE_MS + 2000;

let ctx: TestContext;
let listener: RunningSubmission;
beforeAll(async () => {
  ctx = await createTestContext();
  await createSender(ctx, 'late', 'late password 1', 'late@example.test');
  listener = await startSubmissionListener(
    ctx,
    { host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: 1 }, closeTimeoutMs: 200, preLoginDeadlineMs: DEADLINE_MS },
    async (c, req) => {
      await sleep(VERIFY_MS);
      return authenticate(c, req);
    },
  );
});
afterAll(async () => {
  await listener.close();
  await ctx.close();
});

/** A line-reading client: `next()` is the next complete reply (multi-line replies joined). */
async function client() {
  const socket = net.connect({ port: listener.port, host: '127.0.0.1' });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let closed = false;
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 2);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const closedAt = new Promise<void>((r) =>
    socket.once('close', () => {
      closed = true;
      waiters.splice(0).forEach((w) => w());
      r();
    }),
  );
  socket.on('error', () => {});
  const next = async (): Promise<string | null> => {
    const out: string[] = [];
    for (;;) {
      const line = lines.shift();
      if (line !== undefined) {
        out.push(line);
        if (line[3] !== '-') return out.join('\n');
        continue;
      }
      if (closed) return out.length ? out.join('\n') : null;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const send = (line: string) => socket.write(`${line}\r\n`);
  return { socket, next, send, closedAt, isClosed: () => closed };
}

describe('SMTP pre-login deadline', () => {
  it('a connection that talks but never authenticates gets 421 and is closed at the deadline', async () => {
    const c = await client();
    expect(await c.next()).toMatch(/^220 /);
    const started = Date.now();
    c.send('EHLO talker');
    expect(await c.next()).toMatch(/^250/);
    // Traffic does not reset the deadline: a NOOP every 400 ms until the server gives up (bounded).
    let last: string | null = null;
    for (let i = 0; i < 60; i++) {
      if (!c.isClosed()) c.send('NOOP');
      last = await c.next();
      if (last === null || last.startsWith('421')) break;
      expect(last).toMatch(/^250/);
      await sleep(400);
    }
    expect(last).toBe(`421 4.4.2 Not logged in within ${DEADLINE_MS / 1000} seconds; closing the connection`);
    await c.closedAt;
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
  });

  it('time spent verifying does not count: a login that takes longer than the deadline succeeds and the session stays', async () => {
    const c = await client();
    expect(await c.next()).toMatch(/^220 /);
    c.send('EHLO slowpoke');
    expect(await c.next()).toMatch(/^250/);
    c.send(`AUTH PLAIN ${Buffer.from('\0late\0late password 1').toString('base64')}`);
    expect(await c.next()).toMatch(/^235 /);
    // Past the deadline by a margin, the authenticated session still answers.
    await sleep(DEADLINE_MS);
    c.send('NOOP');
    expect(await c.next()).toMatch(/^250/);
    c.send('QUIT');
    expect(await c.next()).toMatch(/^221/);
  });

  it('a failed login gives the clock back, it does not stop it', async () => {
    const c = await client();
    expect(await c.next()).toMatch(/^220 /);
    c.send('EHLO guesser');
    expect(await c.next()).toMatch(/^250/);
    c.send(`AUTH PLAIN ${Buffer.from('\0late\0wrong password').toString('base64')}`);
    expect(await c.next()).toMatch(/^535 /);
    // The clock runs on after the failure: the deadline comes within its length again (bounded wait).
    const reply = await Promise.race([c.next(), sleep(DEADLINE_MS + 10_000).then(() => 'no reply')]);
    expect(reply).toMatch(/^421 4\.4\.2 /);
    await c.closedAt;
  });
});
