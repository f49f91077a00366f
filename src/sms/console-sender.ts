/**
 * The development provider: the "phone" is the sms_outbox table, which the demo shows and tests read.
 * It never runs in production (config refuses SMS_PROVIDER=console with NODE_ENV=production), and its log
 * line carries neither the code nor the whole number: logs travel further than the database.
 */
import { desc } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { smsOutbox } from '../db/schema.js';
import { maskNumber } from './phone.js';
import type { SmsMessage, SmsSender, SmsSendResult } from './sender.js';

export function createConsoleSender(db: Db, log: Logger): SmsSender {
  return {
    name: 'console',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const [row] = await db.insert(smsOutbox).values({ toNumber: message.to, body: message.body }).returning({ id: smsOutbox.id });
      log.info({ to: maskNumber(message.to), outboxId: row!.id }, 'SMS written to the outbox');
      return { providerSid: `outbox-${row!.id}`, status: 'sent' };
    },
  };
}

/** The newest messages of the console provider's outbox, for the demo's "phone" (development only). */
export async function listOutboxMessages(db: Db, limit = 20): Promise<Array<typeof smsOutbox.$inferSelect>> {
  return db.select().from(smsOutbox).orderBy(desc(smsOutbox.id)).limit(limit);
}
