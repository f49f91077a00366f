// `postern altlogin add NAME --kind otp|sms --valid-for 1h [--base-password-stdin]` (issue 17).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { postern } from '../cli/cli-harness.js';

describe('postern altlogin with --valid-for and --base-password-stdin', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
    await createUser(ctx, { username: 'cleo', password: 'cleo main password' });
  });
  afterAll(() => ctx.close());
  const login = (secret: string, ip: string) => authenticate(ctx, { username: 'cleo', secret, service: 'web', ip });

  it('a 1-hour list with a base password: the base is read from stdin, never printed, and needed before each code', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'cleo', '--kind', 'otp', '--count', '3', '--valid-for', '1h', '--base-password-stdin'], 'cli-base-secret\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/each code valid for 1 hour from first use/);
    expect(r.stdout).toMatch(/Type the base password first, then the code/);
    expect(r.stdout).not.toContain('cli-base-secret');
    const code = /^\s+1\s+(\S+)$/m.exec(r.stdout)![1]!;
    expect(await login(code, '192.0.2.10')).toEqual({ ok: false, reason: 'failed' });
    const first = await login(`cli-base-secret${code}`, '192.0.2.11');
    const again = await login(`cli-base-secret${code}`, '192.0.2.12');
    expect(first).toMatchObject({ ok: true, method: 'otp' });
    expect(again).toMatchObject({ ok: true, method: 'otp' });
    expect(first.ok && again.ok && first.validUntil!.getTime() === again.validUntil!.getTime()).toBe(true);
    expect((await postern(ctx, ['altlogin', 'list', 'cleo'])).stdout).toMatch(/otp .* remaining=2\/3 valid-for=1h base-password uses=1/);
  });

  it('a 1-hour SMS password', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'cleo', '--kind', 'sms', '--valid-for', '1h', '--password-stdin', '--json'], 'cli sms password\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ validForSeconds: 3600 });
    expect((await postern(ctx, ['altlogin', 'list', 'cleo'])).stdout).toMatch(/sms .*valid-for=1h/);
  });

  it('refuses other validities and the flags on kinds that have no use for them', async () => {
    for (const [argv, stdin, message] of [
      [['altlogin', 'add', 'cleo', '--kind', 'otp', '--valid-for', '2h'], '', /only validity offered is 1h/],
      [['altlogin', 'add', 'cleo', '--kind', 'app', '--valid-for', '1h'], '', /--valid-for is for --kind otp or sms/],
      [['altlogin', 'add', 'cleo', '--kind', 'password', '--base-password-stdin'], 'x', /--base-password-stdin is for --kind otp/],
      [['altlogin', 'add', 'cleo', '--kind', 'otp', '--base-password-stdin'], 'short\n', /at least 8 characters/],
    ] as const) {
      const r = await postern(ctx, [...argv], stdin);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });
});
