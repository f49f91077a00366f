import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;

beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx);
});
afterAll(() => live.close());

describe('IMAP gateway login', () => {
  it('greets with its own capabilities and logs in with the main password', async () => {
    const c = await RawClient.connect(live.port);
    expect(c.text).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 LITERAL- ID SASL-IR AUTH=PLAIN\] /);
    const ok = await c.login(user.username, user.password);
    expect(ok).toMatch(/^L1 OK \[CAPABILITY [^\]]*IMAP4rev1[^\]]*\] Logged in/);
    expect(ok).not.toMatch(/AUTH=|SASL-IR|STARTTLS|LOGINDISABLED|COMPRESS|UNAUTHENTICATE|LITERAL\+/);
    expect(await c.command('a1', 'SELECT INBOX')).toMatch(/^a1 OK/);
    expect(await c.command('a2', 'NOOP')).toMatch(/^a2 OK/);
    expect(await c.command('a3', 'LOGOUT')).toMatch(/^a3 OK/);
    await c.waitClosed();
  });
});
