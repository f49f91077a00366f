/**
 * A line other than DONE during IDLE (RFC 2177 allows only DONE): the gateway ends the IDLE on the
 * store, answers the IDLE's tag BAD and keeps the session; such BADs count with every other BAD, so a
 * client looping on them is cut off like one looping on unknown commands (limits.ts MAX_BAD_COMMANDS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BAD_COMMANDS } from '../../../gateway/imap/limits.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;
beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx, 'idle');
});
afterAll(() => live.close());

async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.connect(live.port);
  await c.waitFor(/^\* OK /);
  expect(await c.login(user.username, user.app)).toMatch(/^L1 OK /);
  expect(await c.command('s', 'SELECT INBOX')).toMatch(/^s OK/);
  return c;
}

/** Starts IDLE and waits for its own continuation (the client's text keeps the earlier ones). */
async function idle(c: RawClient, tag: string): Promise<void> {
  const continuations = () => c.text.match(/^\+ /gm)?.length ?? 0;
  const before = continuations();
  c.send(`${tag} IDLE\r\n`);
  await expect.poll(continuations).toBe(before + 1);
}

async function idleThenSend(c: RawClient, tag: string, line: string): Promise<string> {
  await idle(c, tag);
  c.send(`${line}\r\n`);
  return c.tagged(tag);
}

describe('IDLE ended by something other than DONE', () => {
  it('answers BAD on the IDLE tag and the session goes on', async () => {
    const c = await loggedIn();
    expect(await idleThenSend(c, 'i1', 'DONE please')).toBe('i1 BAD Expected DONE to end IDLE');
    expect(await c.command('n1', 'NOOP')).toMatch(/^n1 OK/);
    c.close();
  });

  it('counts those BADs with the others: a client looping on them is cut off', async () => {
    const c = await loggedIn();
    for (let i = 1; i < MAX_BAD_COMMANDS; i++) expect(await idleThenSend(c, `i${i}`, 'STOP')).toMatch(/ BAD Expected DONE/);
    await idle(c, `i${MAX_BAD_COMMANDS}`);
    c.send('STOP\r\n');
    await c.waitFor(/^\* BYE Too many invalid commands\r\n/m);
    await c.waitClosed();
  });
});
