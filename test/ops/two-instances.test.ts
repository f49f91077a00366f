/**
 * Two `postern serve` processes on one PostgreSQL database and the test Dovecot, behind Debian's haproxy in
 * TCP mode with send-proxy-v2 (issue 18): the client's own address reaches the audit row; an app password
 * revoked through instance A's web is refused by B and ends B's live IMAP session within a second; a web
 * session signed out on A is dead on B; login failures made through both count in one throttle.
 * haproxy is required, never skipped: .ci/run installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAppPassword } from '../../src/accounts/alt-logins.js';
import { createUser } from '../../src/accounts/users.js';
import { listAuditEvents } from '../../src/audit.js';
import { createContext, type AppContext } from '../../src/context.js';
import { RawClient } from '../gateway/imap/live-gateway.js';
import { testConfig } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/private-postgres.js';
import { startPostern, type PosternProcess } from '../helpers/postern-process.js';

const HAPROXY = '/usr/sbin/haproxy';
const SECRET_KEY = crypto.randomBytes(32).toString('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-two-'));
let testDb: TestDatabase;
let ctx: AppContext;
let a: PosternProcess;
let b: PosternProcess;
let haproxy: ChildProcess | undefined;
const front = { a: 0, b: 0, any: 0 };
const user = { name: `two${crypto.randomBytes(4).toString('hex')}`, password: `main-${crypto.randomBytes(8).toString('hex')}`, id: 0, app: '', appId: 0 };


async function startInstance(name: string): Promise<PosternProcess> {
  const d = inject('dovecot');
  const webPort = await freePort();
  return startPostern({
    DATABASE_URL: testDb.url!,
    SECRET_KEY,
    DATA_DIR: path.join(dir, name),
    TRUSTED_PROXIES: '127.0.0.1',
    WEB_PORT: String(webPort),
    PUBLIC_URL: `http://127.0.0.1:${webPort}`,
    UPSTREAM_IMAP: `${d.host}:${d.port}`,
    UPSTREAM_MASTER_USER: d.masterUser,
    UPSTREAM_MASTER_PASSWORD: d.masterPassword,
    UPSTREAM_RESTRICTED_MASTER_USER: d.restrictedMasterUser,
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: d.restrictedMasterPassword,
    IMAP_SESSION_REUSE_SECONDS: '0',
  });
}

async function startHaproxy(): Promise<void> {
  if (!fs.existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: install Debian's haproxy package (apt-get install haproxy); .ci/run does`);
  front.a = await freePort();
  front.b = await freePort();
  front.any = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  const server = (n: string, p: PosternProcess) => `  server ${n} 127.0.0.1:${p.imapPort} send-proxy-v2`;
  fs.writeFileSync(cfg, [
    'global', '  maxconn 1000',
    'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    `frontend imap_a`, `  bind 127.0.0.1:${front.a}`, '  default_backend only_a',
    `frontend imap_b`, `  bind 127.0.0.1:${front.b}`, '  default_backend only_b',
    `frontend imap_any`, `  bind 127.0.0.1:${front.any}`, '  default_backend both',
    'backend only_a', server('a', a),
    'backend only_b', server('b', b),
    'backend both', '  balance roundrobin', server('a', a), server('b', b),
    '',
  ].join('\n'));
  const check = spawn(HAPROXY, ['-c', '-f', cfg], { stdio: 'pipe' });
  const checked = await new Promise<number | null>((resolve) => check.on('exit', resolve));
  if (checked !== 0) throw new Error('haproxy refused the test configuration');
  haproxy = spawn(HAPROXY, ['-db', '-f', cfg], { detached: true, stdio: 'ignore' });
  // Listening once a connection to every frontend succeeds.
  for (const port of Object.values(front)) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1').once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`haproxy is not listening on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  testDb = await createTestDatabase({ forcePostgres: true });
  ctx = await createContext(testConfig({ DATABASE_URL: testDb.url, SECRET_KEY }), { database: testDb.database });
  const created = await createUser(ctx, { username: user.name, password: user.password });
  user.id = created.id;
  const app = await createAppPassword(ctx, { userId: created.id, services: ['imap'] });
  user.app = app.secret;
  user.appId = app.login.id;
  [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
  await startHaproxy();
}, 180_000);

afterAll(async () => {
  if (haproxy?.pid && haproxy.exitCode === null) process.kill(-haproxy.pid, 'SIGKILL');
  a?.kill();
  b?.kill();
  await ctx?.liveSessions.close();
  await testDb?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An IMAP client of haproxy's `port`, from `from` (a loopback address standing for a client on the Internet). */
async function viaProxy(port: number, from: string): Promise<RawClient> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
  const c = new RawClient(socket);
  await c.waitFor(/^\* OK .*\r\n/);
  return c;
}

/** A browser of one instance's web (real HTTP, cookies kept, same-origin form posts). */
class Browser {
  cookies = new Map<string, string>();
  constructor(public origin: string) {}
  async request(pathname: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = this.origin;
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.origin}${pathname}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      if (/max-age=0/i.test(line) || pair!.slice(i + 1) === '') this.cookies.delete(pair!.slice(0, i));
      else this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  }
  async csrf(pathname: string): Promise<string> {
    const html = await (await this.request(pathname)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error(`no CSRF token on ${pathname}`);
    return m[1]!;
  }
  async login(): Promise<void> {
    const res = await this.request('/login', { form: { username: user.name, password: user.password } });
    if (res.status !== 303) throw new Error(`web login failed: ${res.status}`);
  }
}

describe('two instances behind haproxy on one PostgreSQL', { timeout: 120_000 }, () => {
  it('the audit row names the client, not haproxy, on both instances', async () => {
    for (const [port, from] of [[front.a, '127.0.0.7'], [front.b, '127.0.0.8']] as const) {
      const c = await viaProxy(port, from);
      expect(await c.login(user.name, user.app)).toMatch(/^L1 OK/);
      const [row] = await listAuditEvents(ctx.db, { userId: user.id, events: ['login.succeeded'], limit: 1 });
      expect(row?.ip).toBe(from);
      c.close();
    }
  });

  it('a web session signed out on A is dead on B', async () => {
    const browser = new Browser(a.web);
    await browser.login();
    const onB = new Browser(b.web);
    onB.cookies = browser.cookies;
    expect((await onB.request('/mail')).status).toBe(200);
    const token = await browser.csrf('/mail');
    expect((await browser.request('/logout', { form: { _csrf: token } })).status).toBe(303);
    const after = new Browser(b.web);
    after.cookies = new Map(onB.cookies);
    const res = await after.request('/mail');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login/);
  });

  it('an app password revoked through A ends the live IMAP session on B within a second, and B refuses it', async () => {
    const idler = await viaProxy(front.b, '127.0.0.9');
    expect(await idler.login(user.name, user.app)).toMatch(/^L1 OK/);
    expect(await idler.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/);
    idler.send('i1 IDLE\r\n');
    await idler.waitFor(/^\+ /);

    const browser = new Browser(a.web);
    await browser.login();
    const stepUp = await browser.request('/options/confirm', { form: { _csrf: await browser.csrf('/options/confirm'), password: user.password, next: '/options/alt-logins' } });
    expect(stepUp.status).toBe(303);
    const token = await browser.csrf('/options/alt-logins');
    const revoke = await browser.request(`/options/alt-logins/${user.appId}/revoke`, { form: { _csrf: token } });
    expect(revoke.headers.get('location')).toBe('/options/alt-logins?revoked=1');
    const revokedAt = performance.now();
    await idler.waitFor(/^\* BYE /, 5000);
    const ms = performance.now() - revokedAt;
    expect(ms).toBeLessThan(1000);

    const again = await viaProxy(front.b, '127.0.0.9');
    expect(await again.login(user.name, user.app)).toMatch(/^L1 NO /);
    again.close();
  });

  it('login failures made through both instances count in one throttle', async () => {
    const from = '127.0.0.10';
    for (let i = 0; i < 6; i++) {
      const c = await viaProxy(i % 2 ? front.b : front.a, from);
      expect(await c.login(user.name, `wrong-${i}`)).toMatch(/^L1 NO /);
      c.close();
    }
    // Three failures on each instance: together past the five free ones, so even the right password waits.
    const c = await viaProxy(front.any, from);
    const answer = await c.login(user.name, user.password);
    expect(answer).toMatch(/^L1 NO .*too many attempts/);
    c.close();
    const throttled = await listAuditEvents(ctx.db, { userId: user.id, events: ['login.throttled'], limit: 1 });
    expect(throttled[0]?.ip).toBe(from);
  });
});
