import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGroupOfUser } from '../../../src/accounts/groups.js';
import { getDefaultPersonality } from '../../../src/accounts/personalities.js';
import { findUserByName } from '../../../src/accounts/users.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { postern } from './cli-harness.js';

describe('postern user / altlogin / group', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());
  const login = (username: string, secret: string, service: 'web' | 'imap' = 'web') =>
    authenticate(ctx, { username, secret, service, ip: '127.0.0.1' });

  it('user add reads the password from stdin and creates the default personality', async () => {
    const r = await postern(ctx, ['user', 'add', 'alice', '--email', 'alice@example.org', '--mobile', '+44 7911 123456', '--upstream-user', 'alice.box', '--password-stdin'], 'alice password\n');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/created user alice/);
    expect(r.stdout).not.toContain('alice password');
    const user = (await findUserByName(ctx, 'alice'))!;
    expect(user.upstreamUser).toBe('alice.box');
    expect(await getDefaultPersonality(ctx, user.id)).toMatchObject({ email: 'alice@example.org', mobile: '+447911123456' });
    expect(await login('alice', 'alice password')).toMatchObject({ ok: true, method: 'main' });
  });

  it('bad input gets one clear line and a non-zero exit', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['user', 'add', 'bad*name', '--password-stdin'], 'whatever1', /Usernames may contain/],
      [['user', 'add', 'bob', '--mobile', '12345', '--password-stdin'], 'bob password', /mobile number is not valid/],
      [['user', 'add', 'alice', '--password-stdin'], 'alice password', /already taken/],
      [['user', 'add', 'erin', '--email', 'not-an-address', '--password-stdin'], 'erin password', /email address is not valid/],
      [['user', 'passwd', 'alice'], '', /--password-stdin/],
      [['user', 'passwd', 'nobody', '--password-stdin'], 'x', /no such user/],
      [['altlogin', 'add', 'alice', '--kind', 'magic'], '', /--kind must be one of/],
      [['altlogin', 'add', 'alice', '--kind', 'app', '--services', 'web,pop3'], '', /services web, imap and smtp/],
      [['altlogin', 'revoke', 'abc'], '', /ID must be a number/],
      [['group', 'create', 'Acme', '--kind', 'club'], '', /business or family/],
      [['group', 'set', 'Nowhere', '--allow-sms', 'on'], '', /no such business or family/],
      [['user', 'add', 'carl', '--password-stdin', '--bogus'], 'carl password', /Unknown option/],
    ];
    for (const [argv, stdin, message] of cases) {
      const r = await postern(ctx, argv, stdin);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stderr.split('\n')[0], argv.join(' ')).toMatch(/^postern \w+: /);
      expect(r.stderr, argv.join(' ')).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });

  it('altlogin add --kind app --json prints the secret once, and it logs a mail client in', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'alice', '--kind', 'app', '--label', 'Phone', '--restricted', '--json']);
    expect(r.code).toBe(0);
    const { id, secret } = JSON.parse(r.stdout) as { id: number; secret: string };
    expect(await login('alice', secret, 'imap')).toMatchObject({ ok: true, method: 'app', loginId: id, restricted: true });
    const list = await postern(ctx, ['altlogin', 'list', 'alice']);
    expect(list.stdout).toMatch(new RegExp(`${id} app +"Phone" services=imap,smtp restricted`));
    expect(list.stdout).not.toContain(secret);
  });

  it('altlogin add --kind otp --json prints numbered codes; each works once; revoke ends the list', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'alice', '--kind', 'otp', '--count', '3', '--json']);
    const { id, codes } = JSON.parse(r.stdout) as { id: number; codes: Array<{ n: number; code: string }> };
    expect(codes.map((c) => c.n)).toEqual([1, 2, 3]);
    expect(await login('alice', codes[0]!.code)).toMatchObject({ ok: true, method: 'otp', loginId: id });
    expect(await login('alice', codes[0]!.code)).toMatchObject({ ok: false });
    expect((await postern(ctx, ['altlogin', 'list', 'alice'])).stdout).toMatch(/remaining=2\/3/);
    expect(await postern(ctx, ['altlogin', 'revoke', String(id)])).toMatchObject({ code: 0 });
    expect(await login('alice', codes[1]!.code)).toMatchObject({ ok: false });
  });

  it('altlogin add --kind password reads the alternate password from stdin', async () => {
    const r = await postern(ctx, ['altlogin', 'add', 'alice', '--kind', 'password', '--services', 'web', '--restricted', '--password-stdin', '--json'], 'kiosk password\n');
    const { id } = JSON.parse(r.stdout) as { id: number };
    expect(await login('alice', 'kiosk password')).toMatchObject({ ok: true, method: 'password', loginId: id, restricted: true });
    expect(await login('alice', 'kiosk password', 'imap')).toMatchObject({ ok: false });
  });

  it('user disable makes every login fail; passwd sets a new password', async () => {
    await postern(ctx, ['user', 'add', 'dan', '--password-stdin'], 'dan password 1');
    expect(await postern(ctx, ['user', 'passwd', 'dan', '--password-stdin'], 'dan password 2')).toMatchObject({ code: 0 });
    expect(await login('dan', 'dan password 2')).toMatchObject({ ok: true });
    expect(await postern(ctx, ['user', 'disable', 'dan'])).toMatchObject({ code: 0 });
    expect(await login('dan', 'dan password 2')).toMatchObject({ ok: false, reason: 'failed' });
    expect((await postern(ctx, ['user', 'list'])).stdout).toMatch(/dan +upstream=dan DISABLED/);
  });

  it('group create, add-member --admin and set --allow-sms', async () => {
    expect(await postern(ctx, ['group', 'create', 'Acme Ltd', '--kind', 'business'])).toMatchObject({ code: 0 });
    expect(await postern(ctx, ['group', 'add-member', 'Acme Ltd', 'alice', '--admin'])).toMatchObject({ code: 0 });
    const alice = (await findUserByName(ctx, 'alice'))!;
    expect(await findGroupOfUser(ctx, alice.id)).toMatchObject({ name: 'Acme Ltd', isAdmin: true, allowSms: false });
    expect(await postern(ctx, ['group', 'set', 'Acme Ltd', '--allow-sms', 'on'])).toMatchObject({ code: 0 });
    expect(await findGroupOfUser(ctx, alice.id)).toMatchObject({ allowSms: true });
    const bad = await postern(ctx, ['group', 'set', 'Acme Ltd', '--allow-sms', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be "on" or "off"/);
    const twice = await postern(ctx, ['group', 'create', 'Family', '--kind', 'family', '--allow-sms']);
    expect(twice.stdout).toMatch(/SMS logins allowed/);
    const other = await postern(ctx, ['group', 'add-member', 'Family', 'alice']);
    expect(other).toMatchObject({ code: 1 });
    expect(other.stderr).toMatch(/already belongs/);
  });

  it('works as a real process: `node bin/postern.js user add … --password-stdin --json`', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-'));
    const bin = path.resolve(__dirname, '../../../bin/postern.js');
    const run = (args: string[], stdin = '') =>
      new Promise<CliRunResult>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.stdin.end(stdin);
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    try {
      // One process (a spawn costs seconds here): the secret arrives on stdin, the answer is one line.
      const r = await run(['user', 'add', 'proc', '--mobile', '+1 202 555 0143', '--password-stdin', '--json'], 'proc password\n');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ username: 'proc', upstreamUser: 'proc', mustChangePassword: false });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

interface CliRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
