import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { checkLedgerConsistency, listLedgerEntries } from '../../../src/credits/ledger.js';
import { smsMessages } from '../../../src/db/schema.js';
import { isPosternError } from '../../../src/errors.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTwilioSender } from '../../../src/sms/twilio-sender.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../../helpers/fake-twilio.js';
import { createSmsUser, fund, setMobile } from './fixtures.js';

let fake: FakeTwilio;
let ctx: TestContext;
beforeAll(async () => {
  fake = await startFakeTwilio();
  ctx = await createTestContext({ env: fakeTwilioEnv(fake) });
});
afterAll(async () => {
  await ctx.close();
  await fake.close();
});
beforeEach(() => {
  fake.outage = false;
  fake.invalidNumbers.clear();
});

describe('sendLoginCode through the twilio package', () => {
  it('delivers the code to the default personality number with the template text and a status callback', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900201' });
    await fund(ctx, { userId: u.userId }, 2);
    const sent = await sendLoginCode(ctx, { ...u, code: '730214' });
    const message = fake.messages.at(-1)!;
    expect(message).toMatchObject({
      to: '+447700900201',
      from: '+15005550006',
      body: 'Your Postern login code is 730214. It expires in 10 minutes.',
      statusCallback: 'https://postern.example.test/webhooks/twilio/status',
    });
    expect(fake.lastCodeFor('+447700900201')).toBe('730214');
    const [row] = await ctx.db.select().from(smsMessages).where(eq(smsMessages.id, sent.smsMessageId));
    expect(row).toMatchObject({ providerSid: message.sid, status: 'queued', provider: 'twilio' });
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
  });

  it('refunds and tells the user to fix their Mobile number when Twilio answers 21211', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900202' });
    const accountId = await fund(ctx, { userId: u.userId }, 1);
    fake.invalidNumbers.add('+447700900202');
    const error = await sendLoginCode(ctx, { ...u, code: '111222' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_INVALID_NUMBER')).toBe(true);
    expect(error.userMessage).toMatch(/Mobile number on your default personality/);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
    const { entries } = await listLedgerEntries(ctx.db, { accountId });
    expect(entries.map((e) => e.kind)).toEqual(['refund', 'sms_debit', 'adjustment']);
    expect((await checkLedgerConsistency(ctx.db, accountId)).consistent).toBe(true);
    const [failed] = await listAuditEvents(ctx.db, { userId: u.userId, events: ['sms.failed'] });
    expect(failed!.details).toMatchObject({ reason: 'invalid-number', providerCode: '21211', refunded: true });
  });

  it('lets the user retry at once after fixing a number Twilio rejected', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900203' });
    await fund(ctx, { userId: u.userId }, 1);
    fake.invalidNumbers.add('+447700900203');
    await expect(sendLoginCode(ctx, { ...u, code: '111222' })).rejects.toMatchObject({ code: 'SMS_INVALID_NUMBER' });
    await setMobile(ctx, u.userId, '+447700900204');
    await sendLoginCode(ctx, { ...u, code: '333444' });
    expect(fake.lastCodeFor('+447700900204')).toBe('333444');
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(0);
  });

  it('refunds and says to try later during a Twilio outage', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900205' });
    await fund(ctx, { userId: u.userId }, 1);
    fake.outage = true;
    const error = await sendLoginCode(ctx, { ...u, code: '555666' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_PROVIDER_DOWN')).toBe(true);
    expect(error.userMessage).toMatch(/try again later/);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
  });

  it('refunds when Twilio cannot be reached at all', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900206' });
    await fund(ctx, { userId: u.userId }, 1);
    const unreachable = createTwilioSender({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: '+15005550006',
      apiBase: 'http://127.0.0.1:1',
      statusCallback: 'https://postern.example.test/webhooks/twilio/status',
    });
    const error = await sendLoginCode({ ...ctx, sms: unreachable }, { ...u, code: '777888' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_PROVIDER_DOWN')).toBe(true);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
  });

  it('is refused by the API with a wrong auth token, which costs the user nothing', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900207' });
    await fund(ctx, { userId: u.userId }, 1);
    const wrongToken = createTwilioSender({
      accountSid: fake.accountSid,
      authToken: 'not-the-token',
      from: '+15005550006',
      apiBase: fake.url,
      statusCallback: 'https://postern.example.test/webhooks/twilio/status',
    });
    const before = fake.messages.length;
    await expect(sendLoginCode({ ...ctx, sms: wrongToken }, { ...u, code: '999000' })).rejects.toMatchObject({ code: 'SMS_PROVIDER_DOWN' });
    expect(fake.messages.length).toBe(before);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
  });

  it('sends through a Messaging Service when one is configured instead of a From number', async () => {
    const sender = createTwilioSender({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      apiBase: fake.url,
      statusCallback: 'https://postern.example.test/webhooks/twilio/status',
    });
    const result = await sender.send({ to: '+447700900208', body: 'Your Postern login code is 246810. It expires in 10 minutes.' });
    expect(result.providerSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.messages.at(-1)).toMatchObject({ from: null, messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' });
  });
});
