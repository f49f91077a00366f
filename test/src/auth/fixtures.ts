/** Helpers for the authentication tests: counting argon2 work, granting SMS credits, reading the "phone". */
import { desc } from 'drizzle-orm';
import type { AppContext } from '../../../src/context.js';
import { applyCreditChange } from '../../../src/credits/ledger.js';
import { ensureCreditAccount } from '../../../src/credits/accounts.js';
import { smsOutbox } from '../../../src/db/schema.js';
import { PasswordHasher } from '../../../src/auth/passwords.js';

/** A hasher that counts verifications, so tests can assert the cost model. */
export class CountingHasher extends PasswordHasher {
  verifications = 0;
  override async verify(hash: string, password: string): Promise<boolean> {
    this.verifications++;
    return super.verify(hash, password);
  }
}

/** The context with a counting hasher at the same cost. */
export function withCountingHasher<T extends AppContext>(ctx: T): T & { hasher: CountingHasher } {
  return { ...ctx, hasher: new CountingHasher(ctx.hasher.cost) };
}

export async function grantPersonalCredits(ctx: AppContext, userId: number, credits: number): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const account = await ensureCreditAccount(tx, { userId });
    await applyCreditChange(tx, { accountId: account.id, delta: credits, kind: 'adjustment', reason: 'test' });
  });
}

/** The code in the newest SMS written by the console provider. */
export async function lastSmsCode(ctx: AppContext): Promise<string> {
  const [row] = await ctx.db.select().from(smsOutbox).orderBy(desc(smsOutbox.id)).limit(1);
  const code = /\b(\d{6})\b/.exec(row?.body ?? '')?.[1];
  if (!code) throw new Error('no SMS code in the outbox');
  return code;
}

export async function countSms(ctx: AppContext): Promise<number> {
  return (await ctx.db.select({ id: smsOutbox.id }).from(smsOutbox)).length;
}
