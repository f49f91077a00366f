import { Writable } from 'node:stream';
import { desc } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/audit.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { smsOutbox } from '../../../src/db/schema.js';
import { isPosternError } from '../../../src/errors.js';
import { createConsoleSender, listOutboxMessages } from '../../../src/sms/console-sender.js';
import { sendLoginCode } from '../../../src/sms/login-code.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createSmsUser, fund, setMobile } from './fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('sendLoginCode with the console provider', () => {
  it('writes the code to the outbox, charges one personal credit and hints the last two digits', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900142' });
    await fund(ctx, { userId: u.userId }, 3);
    const sent = await sendLoginCode(ctx, { ...u, code: '482913', ip: '192.0.2.7' });
    expect(sent.sentToHint).toBe('42');
    const [last] = await listOutboxMessages(ctx.db, 1);
    expect(last).toMatchObject({ toNumber: '+447700900142', body: 'Your Postern login code is 482913. It expires in 10 minutes.' });
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(2);
  });

  it('never writes the code or the whole number into the audit log', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900177' });
    await fund(ctx, { userId: u.userId }, 1);
    await sendLoginCode(ctx, { ...u, code: '551234' });
    const events = await listAuditEvents(ctx.db, { userId: u.userId });
    expect(events.map((e) => e.event)).toContain('sms.sent');
    const text = JSON.stringify(events);
    expect(text).not.toContain('551234');
    expect(text).not.toContain('7700900177');
  });

  it('uses the mobile number of the default personality as it is at send time', async () => {
    const u = await createSmsUser(ctx, { mobile: '+447700900111' });
    await fund(ctx, { userId: u.userId }, 1);
    await setMobile(ctx, u.userId, '+447700900199');
    const sent = await sendLoginCode(ctx, { ...u, code: '000111' });
    expect(sent.sentToHint).toBe('99');
    const [last] = await ctx.db.select().from(smsOutbox).orderBy(desc(smsOutbox.id)).limit(1);
    expect(last!.toNumber).toBe('+447700900199');
  });

  it('refuses without a mobile number and charges nothing', async () => {
    const u = await createSmsUser(ctx, { mobile: null });
    await fund(ctx, { userId: u.userId }, 1);
    const error = await sendLoginCode(ctx, { ...u, code: '123456' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_NO_MOBILE')).toBe(true);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
    const [refused] = await listAuditEvents(ctx.db, { userId: u.userId, events: ['sms.refused'] });
    expect(refused!.details).toMatchObject({ reason: 'no-mobile' });
  });

  it('refuses without credits and says who has none', async () => {
    const u = await createSmsUser(ctx);
    const error = await sendLoginCode(ctx, { ...u, code: '123456' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_NO_CREDITS')).toBe(true);
    expect(error.userMessage).toMatch(/your account has no SMS credits/i);
    const [refused] = await listAuditEvents(ctx.db, { userId: u.userId, events: ['sms.refused'] });
    expect(refused!.details).toMatchObject({ reason: 'no-credits' });
  });

  it('logs "SMS written to the outbox" with a masked number and never the code', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const sender = createConsoleSender(ctx.db, pino({ level: 'info' }, sink));
    const u = await createSmsUser(ctx, { mobile: '+447700900188' });
    await fund(ctx, { userId: u.userId }, 1);
    await sendLoginCode({ ...ctx, sms: sender }, { ...u, code: '918273' });
    const text = lines.join('');
    expect(text).toContain('SMS written to the outbox');
    expect(text).toContain('88');
    expect(text).not.toContain('918273');
    expect(text).not.toContain('7700900188');
  });

  it('refunds when a provider fails in an unexpected way', async () => {
    const u = await createSmsUser(ctx);
    await fund(ctx, { userId: u.userId }, 1);
    const broken = { name: 'console' as const, send: async () => { throw new TypeError('boom'); } };
    const error = await sendLoginCode({ ...ctx, sms: broken }, { ...u, code: '123456' }).catch((e) => e);
    expect(isPosternError(error, 'SMS_PROVIDER_DOWN')).toBe(true);
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(1);
  });
});
