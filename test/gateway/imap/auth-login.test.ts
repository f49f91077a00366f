/**
 * AUTHENTICATE LOGIN through the gateway against the real Dovecot: the same verify path as LOGIN (a wrong
 * password is refused, a right one opens the store), with and without SASL-IR, and `*` cancels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveGateway, type MailUser, RawClient, createMailUser, startLiveGateway } from './live-gateway.js';

let gw: LiveGateway;
let user: MailUser;
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  gw = await startLiveGateway();
  user = await createMailUser(gw.ctx, 'saslogin');
});

afterAll(async () => {
  await gw?.close();
});

describe('AUTHENTICATE LOGIN', () => {
  it('is offered before login and logs in with username then password prompts', async () => {
    const c = await RawClient.connect(gw.port);
    expect(await c.command('C1', 'CAPABILITY')).toMatch(/^C1 OK/);
    expect(c.text).toMatch(/^\* CAPABILITY .*AUTH=LOGIN/m);
    c.send('A1 AUTHENTICATE LOGIN\r\n');
    await c.waitFor(/^\+ VXNlcm5hbWU6\r\n/);
    c.send(`${b64(user.username)}\r\n`);
    await c.waitFor(/^\+ UGFzc3dvcmQ6\r\n/);
    c.send(`${b64(user.app)}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 OK/);
    expect(await c.command('S1', 'SELECT INBOX')).toMatch(/^S1 OK/);
    c.close();
  });

  it('takes the username as initial response, refuses a wrong password, and cancels on *', async () => {
    const c = await RawClient.connect(gw.port);
    c.send(`A1 AUTHENTICATE LOGIN ${b64(user.username)}\r\n`);
    await c.waitFor(/^\+ UGFzc3dvcmQ6\r\n/);
    c.send(`${b64('wrong-password')}\r\n`);
    expect(await c.tagged('A1')).toMatch(/^A1 NO/);
    c.send('A2 AUTHENTICATE LOGIN\r\n');
    await c.waitFor(/^\+ VXNlcm5hbWU6\r\n/);
    c.send('*\r\n');
    expect(await c.tagged('A2')).toMatch(/^A2 BAD/);
    expect(await c.command('A3', 'SELECT INBOX')).toMatch(/^A3 BAD/);
    c.close();
  });
});
