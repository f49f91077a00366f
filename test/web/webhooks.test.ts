import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit.js';
import { getCreditBalance } from '../../src/credits/accounts.js';
import { checkLedgerConsistency, listLedgerEntries } from '../../src/credits/ledger.js';
import { smsMessages } from '../../src/db/schema.js';
import { sendLoginCode } from '../../src/sms/login-code.js';
import { createWebApp } from '../../web/app.js';
import { createWebhookRoutes } from '../../web/routes/webhooks.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { createSmsUser, fund } from '../src/sms/fixtures.js';

let fake: FakeTwilio;
let ctx: TestContext;
let app: ReturnType<typeof createWebhookRoutes>;

beforeAll(async () => {
  fake = await startFakeTwilio();
  ctx = await createTestContext({ env: fakeTwilioEnv(fake) });
  app = createWebhookRoutes(ctx);
});
afterAll(async () => {
  await ctx.close();
  await fake.close();
});

/** Sends one code and returns what a callback test needs. */
async function sendOne(mobile: string) {
  const u = await createSmsUser(ctx, { mobile });
  const accountId = await fund(ctx, { userId: u.userId }, 1);
  const sent = await sendLoginCode(ctx, { ...u, code: '123456' });
  const sid = fake.messages.at(-1)!.sid;
  return { ...u, accountId, smsMessageId: sent.smsMessageId, sid };
}

/** Delivers a callback built by the fake to the app, as Twilio would POST it. */
function deliver(signed: { url: string; headers: Record<string, string>; body: string }) {
  return app.request(new URL(signed.url).pathname, { method: 'POST', headers: signed.headers, body: signed.body });
}

async function statusOf(smsMessageId: number) {
  const [row] = await ctx.db.select().from(smsMessages).where(eq(smsMessages.id, smsMessageId));
  return row!;
}

describe('POST /webhooks/twilio/status', () => {
  it('records delivery on a correctly signed report and keeps the credit spent', async () => {
    const s = await sendOne('+447700900301');
    const res = await deliver(fake.signedStatusCallback(s.sid, 'delivered'));
    expect(res.status).toBe(204);
    expect((await statusOf(s.smsMessageId)).status).toBe('delivered');
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(0);
  });

  it('refunds an undelivered message exactly once, however often the report repeats', async () => {
    const s = await sendOne('+447700900302');
    for (let i = 0; i < 3; i++) {
      const res = await deliver(fake.signedStatusCallback(s.sid, 'undelivered', { errorCode: '30003' }));
      expect(res.status).toBe(204);
    }
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(1);
    const { entries } = await listLedgerEntries(ctx.db, { accountId: s.accountId, kinds: ['refund'] });
    expect(entries).toHaveLength(1);
    expect(await listAuditEvents(ctx.db, { userId: s.userId, events: ['sms.failed'] })).toHaveLength(1);
    expect(await statusOf(s.smsMessageId)).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    expect((await checkLedgerConsistency(ctx.db, s.accountId)).consistent).toBe(true);
  });

  it('refunds a failed message once even when the same report arrives concurrently', async () => {
    const s = await sendOne('+447700900303');
    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(fake.signedStatusCallback(s.sid, 'failed'))));
    expect(results.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(1);
    expect((await listLedgerEntries(ctx.db, { accountId: s.accountId, kinds: ['refund'] })).total).toBe(1);
  });

  it('ignores a late "sent" after "delivered" and a "failed" after "delivered"', async () => {
    const s = await sendOne('+447700900304');
    await deliver(fake.signedStatusCallback(s.sid, 'delivered'));
    await deliver(fake.signedStatusCallback(s.sid, 'sent'));
    await deliver(fake.signedStatusCallback(s.sid, 'failed'));
    expect((await statusOf(s.smsMessageId)).status).toBe('delivered');
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(0);
  });

  it('answers 403 and changes nothing when the report is signed with another token', async () => {
    const s = await sendOne('+447700900305');
    const before = await statusOf(s.smsMessageId);
    const res = await deliver(fake.signedStatusCallback(s.sid, 'failed', { authToken: 'attacker-guess' }));
    expect(res.status).toBe(403);
    expect(await statusOf(s.smsMessageId)).toEqual(before);
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(0);
  });

  it('answers 403 when a signed report is altered or the signature is missing', async () => {
    const s = await sendOne('+447700900306');
    const signed = fake.signedStatusCallback(s.sid, 'delivered');
    const altered = { ...signed, body: signed.body.replace('delivered', 'failed') };
    expect((await deliver(altered)).status).toBe(403);
    const { 'x-twilio-signature': _, ...unsigned } = signed.headers;
    expect((await deliver({ ...signed, headers: unsigned })).status).toBe(403);
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(0);
    expect((await statusOf(s.smsMessageId)).status).toBe('queued');
  });

  it('answers 403 to a report signed for another URL', async () => {
    const s = await sendOne('+447700900307');
    const signed = fake.signedStatusCallback(s.sid, 'failed', { url: 'https://evil.example/webhooks/twilio/status' });
    const res = await app.request('/webhooks/twilio/status', { method: 'POST', headers: signed.headers, body: signed.body });
    expect(res.status).toBe(403);
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(0);
  });

  it('reaches the handler through the whole web app without a session or CSRF token', async () => {
    const s = await sendOne('+447700900308');
    const signed = fake.signedStatusCallback(s.sid, 'undelivered');
    const web = createWebApp(ctx);
    const res = await web.request('/webhooks/twilio/status', { method: 'POST', headers: signed.headers, body: signed.body });
    expect(res.status).toBe(204);
    expect(await getCreditBalance(ctx.db, { userId: s.userId })).toBe(1);
    const forged = await web.request('/webhooks/twilio/status', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: signed.body });
    expect(forged.status).toBe(403);
  });
});
