/**
 * What the preference means for members: while "Allow SMS two-factor logins" is on, their codes are paid
 * by the group; unticking it stops that with the very next code, and the login page says why no code was
 * sent; members see in Options → Alternative Logins who pays, never the group's balance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { listPersonalities, setMobile } from '../../../src/accounts/personalities.js';
import { setGroupAllowSms } from '../../../src/accounts/groups.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { purchaseCredits } from '../../../src/credits/purchases.js';
import { createWebHarness, grantPersonalCredits, text, WebClient, type WebHarness } from '../harness.js';
import { createGroups, steppedUp, type Groups } from './fixtures.js';

let h: WebHarness;
let g: Groups;

beforeAll(async () => {
  // No cool-down between codes: these tests send several in a row on purpose.
  h = await createWebHarness({ SMS_COOLDOWN_SECONDS: '0' });
  g = await createGroups(h);
  const [personality] = await listPersonalities(h.ctx, g.ids.mel);
  await setMobile(h.ctx, { userId: g.ids.mel, personalityId: personality!.id, mobile: '+447911123456' });
  await createUserChosenLogin(h.ctx, { userId: g.ids.mel, kind: 'sms', secret: 'mel sms password', label: 'Phone' });
});
afterAll(() => h.close());

const balances = async () => ({
  group: await getCreditBalance(h.ctx.db, { groupId: g.acme.id }),
  mel: await getCreditBalance(h.ctx.db, { userId: g.ids.mel }),
});

async function smsLogin(): Promise<Response> {
  return (await smsLoginClient()).res;
}

/** Logs in with the SMS password; the client then holds the pending code, for reading the code page. */
async function smsLoginClient(): Promise<{ client: WebClient; res: Response }> {
  const client = new WebClient(h);
  return { client, res: await client.post('/login', { username: 'mel', password: 'mel sms password' }) };
}

async function untick(ada: WebClient) {
  const path = `/manage/${g.acme.id}/preferences`;
  const res = await ada.post(path, { _csrf: await ada.csrf(path), present: '1' });
  expect(res.headers.get('location')).toBe(`${path}?saved=1`);
}

describe('who pays for a member’s SMS codes', () => {
  it('charges the group while the preference is on, and stops at once when an administrator unticks it', async () => {
    await setGroupAllowSms(h.ctx, { groupId: g.acme.id, allowSms: true });
    await purchaseCredits(h.ctx, { owner: { groupId: g.acme.id }, credits: 50, idempotencyKey: 'sms-payment-test-1', actorUserId: g.ids.ada });
    const sent = await smsLoginClient();
    expect(sent.res.headers.get('location')).toBe('/login/code');
    expect(await balances()).toEqual({ group: 49, mel: 0 });
    expect(text(await (await sent.client.get('/login/code')).text())).not.toContain('paid from your own SMS credits');

    await untick(await steppedUp(h, 'ada'));
    const refused = await smsLogin();
    expect(refused.status).toBe(503);
    expect(text(await refused.text())).toContain(
      'SMS logins are not paid by Acme Ltd (an administrator has not allowed them), and your own account has no SMS credits left, so no code can be sent.',
    );
    expect(await balances()).toEqual({ group: 49, mel: 0 });

    // Members fall back to their personal credits, and the code page tells them so.
    await grantPersonalCredits(h, g.ids.mel, 3);
    const personal = await smsLoginClient();
    expect(personal.res.headers.get('location')).toBe('/login/code');
    expect(await balances()).toEqual({ group: 49, mel: 2 });
    expect(text(await (await personal.client.get('/login/code')).text())).toContain(
      'SMS logins are not paid by Acme Ltd, so this code was paid from your own SMS credits.',
    );
  });

  it('tells members in Alternative Logins whether their group pays, without showing its balance', async () => {
    const mel = await steppedUp(h, 'mel');
    const off = text(await (await mel.get('/options/alt-logins')).text());
    expect(off).toContain('SMS logins are not paid by Acme Ltd: an administrator has not allowed them. Codes are paid from your own SMS credits (2 left).');

    await setGroupAllowSms(h.ctx, { groupId: g.acme.id, allowSms: true });
    const on = text(await (await mel.get('/options/alt-logins')).text());
    expect(on).toContain('SMS logins are paid by Acme Ltd, which has SMS credits available.');
    // The balance (49) nowhere in what the page shows; tags go first, since a random CSRF token or form
    // key in an attribute can contain the digits 49.
    expect(on.replace(/<[^>]*>/g, ' ')).not.toMatch(/\b49\b/);
    expect(on).not.toContain('/manage/');
    // …and the group's ledger stays closed to them.
    expect((await mel.get(`/manage/${g.acme.id}/history`)).status).toBe(403);
  });
});
