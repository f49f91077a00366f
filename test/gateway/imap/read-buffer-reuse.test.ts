/**
 * Store read buffers are reused (gateway/imap/read-buffers.ts), and the relay writes literal bytes to the
 * client as views of them. A buffer handed back while a view of it still waits in the client socket would
 * be overwritten by the next read: this relays large FETCHes to clients that stall, on two sessions at
 * once (the free list is shared), and requires every byte to arrive as stored.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeClient } from '../../helpers/mailstore.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;
const messages: string[] = [];

/** About `bytes` of lines that are all different, so a reused buffer cannot go unnoticed. */
function distinctMessage(bytes: number, seed: string): string {
  const lines: string[] = [`Subject: ${seed}`, ''];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = crypto.createHash('sha256').update(`${seed}:${i}`).digest('hex');
    lines.push(line);
    size += line.length + 2;
  }
  return `${lines.join('\r\n')}\r\n`;
}

beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx, 'rbr');
  const c = await storeClient(user.username);
  for (const seed of ['one', 'two']) {
    const text = distinctMessage(8 * 1024 * 1024, seed);
    messages.push(text);
    await c.append('INBOX', text);
  }
  await c.logout();
});
afterAll(() => live.close());

async function stalledFetch(n: number): Promise<string> {
  const c = await RawClient.connect(live.port);
  await c.login(user.username, user.app);
  await c.command('s', 'SELECT INBOX');
  // Read the answer as raw chunks (RawClient's text matching is too slow for megabytes).
  c.socket.removeAllListeners('data');
  const chunks: Buffer[] = [];
  let tail = '';
  const done = new Promise<void>((resolve) => {
    c.socket.on('data', (d: Buffer) => {
      chunks.push(d);
      tail = (tail + d.toString('latin1')).slice(-200);
      if (/\r\nf OK[^\r]*\r\n$/.test(tail)) resolve();
    });
  });
  c.socket.pause();
  c.send(`f FETCH ${n} BODY.PEEK[]\r\n`);
  // The client reads nothing for a while: the gateway's writes to it back up, the store keeps sending.
  await new Promise((r) => setTimeout(r, 800));
  c.socket.resume();
  await done;
  c.close();
  const response = Buffer.concat(chunks).toString('latin1');
  const m = /\* \d+ FETCH \(BODY\[\] \{(\d+)\}\r\n/.exec(response)!;
  return response.substr(m.index + m[0].length, Number(m[1]));
}

describe('store read buffers', () => {
  it('are never reused while the client still has bytes of them to receive', async () => {
    const [one, two] = await Promise.all([stalledFetch(1), stalledFetch(2)]);
    expect(one.length).toBe(messages[0]!.length);
    expect(one === messages[0], 'message 1 arrived intact').toBe(true);
    expect(two === messages[1], 'message 2 arrived intact').toBe(true);
  });
});
