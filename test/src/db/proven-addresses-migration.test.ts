/**
 * The data migration that introduced proven addresses (drizzle/*_proven-addresses.sql, after
 * "-- data migration:"): existing operator-given addresses stay usable, personalities added later do not,
 * and where two users claimed one address only the earlier keeps it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { migrationsFolder } from '../../../src/db/client.js';
import { personalities, provenAddresses } from '../../../src/db/schema.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

function dataMigrationSql(): string {
  const file = fs.readdirSync(migrationsFolder).find((f) => f.endsWith('_proven-addresses.sql'))!;
  const text = fs.readFileSync(path.join(migrationsFolder, file), 'utf8');
  return text.slice(text.indexOf('-- data migration:'));
}

describe('proven-addresses data migration', () => {
  it('keeps the first personality address and an address login name proven, and nothing else', async () => {
    const ann = await createUser(ctx, { username: 'ann', password: 'ann-password', email: 'ann@example.test' });
    const bea = await createUser(ctx, { username: 'bea@example.test', password: 'bea-password', email: 'bea@home.test' });
    const cy = await createUser(ctx, { username: 'cy', password: 'cy-password' });
    // As before the migration: personalities added by the users themselves, one claiming ann's address.
    await ctx.db.insert(personalities).values([
      { userId: ann.id, name: 'Ann at work', email: 'ann@work.test' },
      { userId: cy.id, name: 'Not Ann', email: 'ANN@example.test' },
    ]);
    await ctx.db.delete(provenAddresses);
    await ctx.db.execute(sql.raw(dataMigrationSql()));
    const rows = await ctx.db.select({ a: provenAddresses.address, u: provenAddresses.userId, by: provenAddresses.provenBy }).from(provenAddresses);
    expect(rows.sort((x, y) => x.a.localeCompare(y.a))).toEqual([
      { a: 'ann@example.test', u: ann.id, by: 'operator' },
      { a: 'bea@example.test', u: bea.id, by: 'operator' },
      { a: 'bea@home.test', u: bea.id, by: 'operator' },
    ]);
  });
});
