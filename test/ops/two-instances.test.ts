/**
 * Two `postern serve` processes on one PostgreSQL database and the test Dovecot, behind Debian's haproxy in
 * TCP mode with send-proxy-v2 (issue 18): the client's own address reaches the audit row; an app password
 * revoked through instance A's web is refused by B and ends B's live IMAP session within a second; a web
 * session signed out on A is dead on B; login failures made through both count in one throttle; 30 SMS-password
 * logins at once, half through each instance, against a group's 10 credits send exactly 10 codes (through
 * the real `twilio` package to the local fake) and never overdraw.
 * haproxy is required, never skipped: .ci/run installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createAppPassword, createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { addGroupMember, createGroup } from '../../src/accounts/groups.js';
import { createUser } from '../../src/accounts/users.js';
import { listAuditEvents } from '../../src/audit.js';
import { createContext, type AppContext } from '../../src/context.js';
import { ensureCreditAccount, getCreditBalance } from '../../src/credits/accounts.js';
import { grantCredits } from '../../src/credits/grant.js';
import { checkLedgerConsistency } from '../../src/credits/ledger.js';
import { creditLedger } from '../../src/db/schema.js';
import { RawClient } from '../gateway/imap/live-gateway.js';
import { testConfig } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
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
let twilio: FakeTwilio;
const front = { a: 0, b: 0, any: 0 };
const user = { name: `two${crypto.randomBytes(4).toString('hex')}`, password: `main-${crypto.randomBytes(8).toString('hex')}`, id: 0, app: '', appId: 0 };


async function startInstance(name: string): Promise<PosternProcess> {
  const d = inject('dovecot');
  const webPort = await freePort();
  return startPostern({
    // SMS through the real twilio package to the fake; the per-group daily cap out of the way of 30 sends.
    ...fakeTwilioEnv(twilio, { SMS_MAX_PER_GROUP_PER_DAY: '1000' }),
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
  twilio = await startFakeTwilio();
  [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
  await startHaproxy();
}, 180_000);

afterAll(async () => {
  if (haproxy?.pid && haproxy.exitCode === null) process.kill(-haproxy.pid, 'SIGKILL');
  a?.kill();
  b?.kill();
  await twilio?.close();
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

  it('a web session ended on A from Options → Security ("End") is dead on B', async () => {
    const me = new Browser(a.web);
    await me.login();
    const elsewhere = new Browser(b.web);
    await elsewhere.login();
    expect((await elsewhere.request('/mail')).status).toBe(200);
    const sessionId = decodeURIComponent(elsewhere.cookies.get('postern_session')!).split('.')[0]!;
    const page = await (await me.request('/options/security')).text();
    expect(page).toContain(`/options/security/sessions/${sessionId}/revoke`);
    const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    expect((await me.request(`/options/security/sessions/${sessionId}/revoke`, { form: { _csrf: token } })).status).toBe(303);
    const res = await elsewhere.request('/mail');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login/);
    expect((await me.request('/mail')).status).toBe(200);
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

  it('30 SMS-password logins at once, half through each instance, send exactly the 10 codes the group paid for', async () => {
    const credits = 10;
    const group = await createGroup(ctx, { name: `Race ${user.name}`, kind: 'family', allowSms: true });
    await grantCredits(ctx, { owner: { groupId: group.id }, credits });
    const account = await ensureCreditAccount(ctx.db, { groupId: group.id });
    const members = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const nn = String(i).padStart(2, '0');
        const m = await createUser(ctx, { username: `${user.name}-sms${nn}`, password: `main-${user.password}`, mobile: `+4479111234${nn}` });
        await addGroupMember(ctx, { groupId: group.id, userId: m.id });
        await createUserChosenLogin(ctx, { userId: m.id, kind: 'sms', secret: `sms-${user.password}-${nn}` });
        return { userId: m.id, username: m.username, secret: `sms-${user.password}-${nn}`, mobile: `+4479111234${nn}`, ip: `127.0.3.${i + 1}` };
      }),
    );
    // Every client connected and greeted first (even ones through A, odd through B), then all LOGINs at once.
    const clients = await Promise.all(members.map((m, i) => viaProxy(i % 2 ? front.b : front.a, m.ip)));
    let lowest = credits;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        lowest = Math.min(lowest, await getCreditBalance(ctx.db, { groupId: group.id }));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    twilio.delayMs = 30; // sends stay in flight while the other instance reserves
    const answers = await Promise.all(clients.map((c, i) => c.login(members[i]!.username, members[i]!.secret)));
    twilio.delayMs = 0;
    watching = false;
    await watcher;
    for (const c of clients) c.close();

    const sent = members.filter((_, i) => /^L1 NO \[ALERT\] A login code was sent by SMS to /.test(answers[i]!));
    const refused = answers.filter((line) => !/ A login code was sent by SMS /.test(line));
    expect(sent).toHaveLength(credits);
    expect(new Set(refused)).toEqual(
      new Set([`L1 NO [ALERT] ${group.name} has no SMS credits left, and neither has your own account, so no code can be sent. Ask an administrator of ${group.name} to buy SMS credits.`]),
    );
    expect(refused).toHaveLength(30 - credits);

    // Twilio received one message per code announced, to exactly those members, and nothing else.
    expect(twilio.messages).toHaveLength(credits);
    expect(new Set(twilio.messages.map((m) => m.to))).toEqual(new Set(sent.map((m) => m.mobile)));

    expect(await getCreditBalance(ctx.db, { groupId: group.id })).toBe(0);
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(await checkLedgerConsistency(ctx.db, account.id)).toEqual({ balance: 0, ledgerSum: 0, consistent: true });
    // One -1 debit per code, paid for the members who got one, each seeing the balance one lower: 9, 8, … 0.
    const debits = (await ctx.db.select().from(creditLedger).where(eq(creditLedger.accountId, account.id))).filter((r) => r.kind === 'sms_debit');
    expect(debits.map((r) => r.delta)).toEqual(Array(credits).fill(-1));
    expect(debits.map((r) => r.balanceAfter).sort((x, y) => y - x)).toEqual(Array.from({ length: credits }, (_, i) => credits - 1 - i));
    expect(new Set(debits.map((r) => r.userId))).toEqual(new Set(sent.map((m) => m.userId)));

    const refusals = await listAuditEvents(ctx.db, { groupId: group.id, events: ['sms.refused'] });
    expect(refusals).toHaveLength(30 - credits);
    expect(new Set(refusals.map((r) => (r.details as { reason?: string }).reason))).toEqual(new Set(['no-credits']));

    // The codes are real: a winner who started on one instance finishes on the other with password + code.
    const winner = sent[0]!;
    const first = members.indexOf(winner) % 2 ? front.b : front.a;
    const other = await viaProxy(first === front.a ? front.b : front.a, winner.ip);
    expect(await other.login(winner.username, `${winner.secret}${twilio.lastCodeFor(winner.mobile)}`)).toMatch(/^L1 OK/);
    other.close();
  });
});
