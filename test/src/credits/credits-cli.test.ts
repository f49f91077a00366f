import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { postern } from '../cli/cli-harness.js';
import { createGroup, createSmsUser } from '../sms/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('postern credits', () => {
  it('grants credits to a group and prints the balance as JSON', async () => {
    const group = await createGroup(ctx, { allowSms: true, name: 'Acme Ltd' });
    const grant = await postern(ctx, ['credits', 'grant', '--group', 'Acme Ltd', '50', '--reason', 'welcome pack']);
    expect(grant).toMatchObject({ code: 0, stderr: '', stdout: 'granted 50 SMS credits to group Acme Ltd; balance 50\n' });
    const balance = await postern(ctx, ['credits', 'balance', '--group', 'Acme Ltd', '--json']);
    expect(balance.code).toBe(0);
    expect(JSON.parse(balance.stdout)).toMatchObject({ balance: 50, group: 'Acme Ltd', consistent: true });
    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(50);
  });

  it('grants to a user by name and removes credits after "--"', async () => {
    const u = await createSmsUser(ctx, { username: 'carol' });
    expect((await postern(ctx, ['credits', 'grant', '--user', 'Carol', '10'])).code).toBe(0);
    const removed = await postern(ctx, ['credits', 'grant', '--user', 'carol', '--', '-4']);
    expect(removed).toMatchObject({ code: 0, stdout: 'removed 4 SMS credits from user carol; balance 6\n' });
    expect((await postern(ctx, ['credits', 'balance', '--user', 'carol'])).stdout).toBe('user carol: 6 SMS credits\n');
    expect(await getCreditBalance(ctx.db, { userId: u.userId })).toBe(6);
  });

  it('shows a balance of 0 for an owner who never had credits', async () => {
    await createSmsUser(ctx, { username: 'dave' });
    const r = await postern(ctx, ['credits', 'balance', '--user', 'dave', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ balance: 0, user: 'dave' });
  });

  it('answers bad input with one clear line and a non-zero exit', async () => {
    await createSmsUser(ctx, { username: 'erin' });
    const cases: Array<[string[], RegExp]> = [
      [['credits', 'grant', '--user', 'erin'], /give the number of credits/],
      [['credits', 'grant', '--user', 'erin', 'lots'], /give the number of credits/],
      [['credits', 'grant', '--user', 'erin', '--group', 'Acme Ltd', '5'], /exactly one of --group NAME and --user NAME/],
      [['credits', 'balance'], /exactly one of --group NAME and --user NAME/],
      [['credits', 'grant', '--user', 'nobody', '5'], /no user named "nobody"/],
      [['credits', 'balance', '--group', 'Nowhere'], /no business or family named "Nowhere"/],
      [['credits', 'grant', '--user', 'erin', '--', '-5'], /Cannot remove 5 credits: the balance is only 0/],
      [['credits', 'refund', '--user', 'erin'], /unknown action "refund"/],
    ];
    for (const [argv, message] of cases) {
      const r = await postern(ctx, argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')[0], argv.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
