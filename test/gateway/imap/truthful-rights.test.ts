/**
 * Rights that tell the truth (issue #15): without the restricted master user the store grants the
 * gateway's full-rights master everything, yet a restricted session must be told only the rights it
 * has, so that clients hide delete up front. Full sessions see the store's answer untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillMailbox } from '../../helpers/mailstore.js';
import { type LiveGateway, type MailUser, RawClient, createMailUser, startLiveGateway } from './live-gateway.js';

let gw: LiveGateway;
let user: MailUser;

beforeAll(async () => {
  gw = await startLiveGateway({ env: { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined } });
  user = await createMailUser(gw.ctx, 'rights');
  await fillMailbox(user.username, { INBOX: 1, 'Sent Items': 1 });
});

afterAll(async () => {
  await gw?.close();
});

/** Every right letter reported in the untagged responses of `text`. */
function reportedRights(text: string): string {
  const letters: string[] = [];
  for (const line of text.split('\r\n')) {
    const my = /^\* MYRIGHTS (?:"[^"]*"|\S+) (\S+)$/.exec(line);
    if (my) letters.push(my[1]!);
    const acl = /^\* ACL (?:"[^"]*"|\S+) (.*)$/.exec(line);
    if (acl) letters.push(...acl[1]!.split(' ').filter((_, i) => i % 2 === 1));
  }
  return letters.join('');
}

async function session(pass: string): Promise<RawClient> {
  const c = await RawClient.connect(gw.port);
  expect(await c.login(user.username, pass)).toMatch(/^L1 OK/);
  return c;
}

describe('rights reported through the gateway', () => {
  it('a restricted session is never told it may delete, expunge or administer', async () => {
    const c = await session(user.restrictedApp);
    expect(await c.command('A1', 'MYRIGHTS INBOX')).toMatch(/^A1 OK/);
    expect(await c.command('A2', 'GETACL INBOX')).toMatch(/^A2 (OK|NO)/);
    // Dovecot 2.3 has no LIST-MYRIGHTS (RFC 8440); its MYRIGHTS responses would be filtered the same way.
    expect(await c.command('A4', 'MYRIGHTS "Sent Items"')).toMatch(/^A4 OK/);
    const rights = reportedRights(c.text);
    expect(rights).toMatch(/l/);
    expect(rights).not.toMatch(/[texda]/i);
    expect(c.text).toMatch(/^\* MYRIGHTS "Sent Items" /m);
    c.close();
  });

  it('a full session sees the store\'s rights as they are', async () => {
    const c = await session(user.app);
    expect(await c.command('A1', 'MYRIGHTS INBOX')).toMatch(/^A1 OK/);
    expect(reportedRights(c.text)).toMatch(/t/);
    expect(reportedRights(c.text)).toMatch(/e/);
    c.close();
  });
});
