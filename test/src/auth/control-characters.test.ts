/**
 * Text from the outside (issue 11 item 10): a NUL or another control character in a username typed into
 * a mail client (SMTP AUTH LOGIN carries any byte; IMAP literals too) is a failed login, never a database
 * error — PostgreSQL refuses 0x00 in text, which would have answered "temporarily unavailable" and logged
 * a stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createUser } from '../../../src/accounts/users.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  await createUser(ctx, { username: 'nul-owner', password: 'nul owner password' });
});
afterAll(() => ctx.close());

describe('control characters in a login name', () => {
  it('are a plain failed login on every service', async () => {
    let n = 0;
    for (const service of ['web', 'imap', 'smtp'] as const) {
      for (const username of ['nul-owner\u0000', '\u0000', 'nul\u001b[2Jowner', 'nul-owner\u0085']) {
            const ip = `192.0.2.${++n}`;
        // Refused like any unknown name (and, after a few, throttled like one): never a database error.
        const result = await authenticate(ctx, { username, secret: 'nul owner password', service, ip });
        expect(result.ok).toBe(false);
        expect(['failed', 'throttled']).toContain(result.ok ? 'ok' : result.reason);
      }
    }
    expect(await authenticate(ctx, { username: 'nul-owner', secret: 'nul owner password', service: 'smtp', ip: '127.0.0.1' })).toMatchObject({ ok: true });
  });
});

describe('control characters in CLI arguments', () => {
  it('are one clear line and exit 2, and nothing is created', async () => {
    const { postern } = await import('../cli/cli-harness.js');
    const { findUserByName } = await import('../../../src/accounts/users.js');
    for (const argv of [
      ['user', 'add', 'evil\u0000name', '--password-stdin'],
      ['user', 'add', 'evil', '--email', 'a\u001b[31m@example.test', '--password-stdin'],
      ['altlogin', 'add', 'nul-owner', '--kind', 'app', '--label', 'line\nbreak'],
      ['user', 'passwd', 'nul-owner\u0085', '--password-stdin'],
    ]) {
      const r = await postern(ctx, argv, 'a password of some length\n');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^postern (user|altlogin): argument \d+ contains a control character \(such as NUL or ESC\); retype it\n$/);
    }
    expect(await findUserByName(ctx, 'evil')).toBeNull();
    // An ordinary argument still works.
    expect((await postern(ctx, ['user', 'list'])).code).toBe(0);
  });
});
