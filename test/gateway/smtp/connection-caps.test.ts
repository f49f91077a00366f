/** SMTP under a connection flood: the per-address cap answers 421 and closes; other addresses still get in. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubmissionListener, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { replyForAuthFailure } from '../../../gateway/smtp/replies.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;
let listener: RunningSubmission;
beforeAll(async () => {
  ctx = await createTestContext();
  listener = await startSubmissionListener(
    ctx,
    { host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: 1 }, closeTimeoutMs: 200, connectionCaps: { total: 10, perAddress: 2 } },
    async () => ({ ok: false, reason: 'failed' }),
  );
});
afterAll(async () => {
  await listener.close();
  await ctx.close();
});

/** Connects from `localAddress`; resolves with the first reply line and whether the server then closed. */
function connect(localAddress: string): Promise<{ socket: net.Socket; first: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: listener.port, host: '127.0.0.1', localAddress });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const i = text.indexOf('\r\n');
      if (i >= 0) resolve({ socket, first: text.slice(0, i), closed });
    });
    socket.on('error', reject);
  });
}

describe('SMTP connection caps', () => {
  it('answers the connection past the per-address cap with 421 and closes it', async () => {
    const kept = await Promise.all([connect('127.0.0.2'), connect('127.0.0.2')]);
    for (const k of kept) expect(k.first).toMatch(/^220 /);
    const refused = await connect('127.0.0.2');
    expect(refused.first).toBe('421 4.7.0 Too many connections from your address; try again later');
    await refused.closed;
    const other = await connect('127.0.0.3');
    expect(other.first).toMatch(/^220 /);
    // A closed connection gives its place back.
    kept[0]!.socket.destroy();
    await expect.poll(async () => (await connect('127.0.0.2')).first, { timeout: 5000 }).toMatch(/^220 /);
    for (const s of [...kept, other]) s.socket.destroy();
  });

  it('tells a client to try again when the verification queue is full', () => {
    const reply = replyForAuthFailure({ ok: false, reason: 'busy' });
    expect(reply.responseCode).toBe(454);
    expect(reply.message).toMatch(/^4\.7\.0 Too many logins are being checked/);
  });
});
