// The recovery list for a lost phone (issue 16): a one-time list marked `recovery`; each use (not each
// reconnect in a 1-hour window) is audited as login.recovery-used, which the owner's notice is made from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneTimeList, listAltLogins } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const recoveryUses = async (userId: number) => (await listAuditEvents(ctx.db, { userId, events: ['login.recovery-used'] })).length;

describe('recovery list', () => {
  it('each use of a recovery list is recorded for the owner, with the list and the address', async () => {
    const user = await createUser(ctx, { username: 'rhea', password: 'rhea main password' });
    const { login, codes } = await createOneTimeList(ctx, { userId: user.id, count: 3, recovery: true, label: 'Drawer' });
    expect((await listAltLogins(ctx, user.id))[0]).toMatchObject({ id: login.id, recovery: true });
    expect(await authenticate(ctx, { username: 'rhea', secret: codes[0]!.code, service: 'web', ip: '203.0.113.7' })).toMatchObject({ ok: true, method: 'otp' });
    const [event] = await listAuditEvents(ctx.db, { userId: user.id, events: ['login.recovery-used'] });
    expect(event).toMatchObject({ ip: '203.0.113.7', service: 'web', details: { loginId: login.id, label: 'Drawer', method: 'otp' } });
    // A refused (reused) code is no use of the list.
    await authenticate(ctx, { username: 'rhea', secret: codes[0]!.code, service: 'web', ip: '203.0.113.7' });
    expect(await recoveryUses(user.id)).toBe(1);
  });

  it('an ordinary list is not reported; a 1-hour recovery list is reported once per code, not per reconnect', async () => {
    const user = await createUser(ctx, { username: 'remy', password: 'remy main password' });
    const plain = await createOneTimeList(ctx, { userId: user.id, count: 2, services: ['imap'] });
    await authenticate(ctx, { username: 'remy', secret: plain.codes[0]!.code, service: 'imap', ip: '203.0.113.8' });
    expect(await recoveryUses(user.id)).toBe(0);
    const hour = await createOneTimeList(ctx, { userId: user.id, count: 2, services: ['imap'], validForSeconds: 3600, recovery: true });
    for (let i = 0; i < 3; i++)
      expect(await authenticate(ctx, { username: 'remy', secret: hour.codes[1]!.code, service: 'imap', ip: '203.0.113.8' })).toMatchObject({ ok: true });
    expect(await recoveryUses(user.id)).toBe(1);
  });
});
