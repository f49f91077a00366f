import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCheckViolation } from '../../../src/db/errors.js';
import { creditAccounts, users } from '../../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe('database', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  it('applies the migrations and answers the health probe', async () => {
    expect(await t.database.ping()).toBe(true);
    const rows = await t.database.db.select().from(users);
    expect(rows).toEqual([]);
  });

  it('refuses a credit balance below zero at the database level', async () => {
    const [u] = await t.database.db.insert(users).values({ username: 'neg', upstreamUser: 'neg' }).returning();
    const [acct] = await t.database.db.insert(creditAccounts).values({ userId: u!.id, balance: 1 }).returning();
    const error = await t.database.db
      .execute(sql`update credit_accounts set balance = balance - 2 where id = ${acct!.id}`)
      .then(() => null, (e: unknown) => e);
    expect(isCheckViolation(error, 'credit_balance_non_negative')).toBe(true);
  });

  it('delivers NOTIFY payloads to listeners', async () => {
    const got = new Promise<string>((resolve) => void t.database.listen('postern_test', resolve));
    await new Promise((r) => setTimeout(r, 50));
    await t.database.notify('postern_test', 'hello');
    expect(await got).toBe('hello');
  });
});
