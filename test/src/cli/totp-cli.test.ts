// `postern altlogin add NAME --kind totp --password-stdin`: the password from stdin, the otpauth URI
// printed once, and a mail-client login with the password followed by a code computed from that URI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { base32Decode, totpCode } from '../../../src/auth/totp.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { postern } from './cli-harness.js';

describe('postern altlogin add --kind totp', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
    await createUser(ctx, { username: 'ines', password: 'ines main password' });
  });
  afterAll(() => ctx.close());

  it('prints the otpauth URI once; password + current code logs a mail client in; list shows the kind, never the secret', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'ines', '--kind', 'totp', '--label', 'Phone', '--password-stdin'], 'ines phone pass\n');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).not.toContain('ines phone pass');
    const uri = new URL(/otpauth:\/\/\S+/.exec(r.stdout)![0]);
    expect(r.stdout).toContain('otpauth://totp/Postern:ines?secret=');
    const secret = base32Decode(uri.searchParams.get('secret')!)!;
    expect(r.stdout).toContain(`secret: ${uri.searchParams.get('secret')!.match(/.{1,4}/g)!.join(' ')}`);
    const ok = await authenticate(ctx, { username: 'ines', secret: `ines phone pass${totpCode(secret, new Date())}`, service: 'imap', ip: '127.0.0.1' });
    expect(ok).toMatchObject({ ok: true, method: 'totp' });

    const list = await postern(ctx, ['altlogin', 'list', 'ines']);
    expect(list.stdout).toMatch(/totp\s+"Phone"/);
    expect(list.stdout).not.toContain(uri.searchParams.get('secret'));
  });

  it('refuses without --password-stdin', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'ines', '--kind', 'totp']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--password-stdin/);
  });
});
