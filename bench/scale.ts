/**
 * Scale-out benchmark (run by hand: `DATABASE_URL=postgres://… npx tsx bench/scale.ts`; not part of npm test).
 * A private Dovecot, one PostgreSQL database, `postern serve` processes and Debian's haproxy (TCP mode,
 * send-proxy-v2), all on this machine. Measured, side by side:
 *   - the cost haproxy + PROXY protocol adds to one login (sequential connect + LOGIN + LOGOUT, p50/p90),
 *     direct to an instance vs through haproxy to the same instance;
 *   - logins per second with CONCURRENCY clients, to one instance and to two behind haproxy;
 *   - IMAP sessions held (logged in, IDLE) and Postern's RSS per session, one instance vs two.
 * App passwords are used (keyed hashes, no argon2): the numbers are the gateway's, not the password hash's
 * (bench/auth.ts measures that). Sizes: SCALE_SECONDS (10), SCALE_CONCURRENCY (8), SCALE_SESSIONS (200).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createAppPassword } from '../src/accounts/alt-logins.js';
import { createUser } from '../src/accounts/users.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { startDovecot } from '../src/upstream/dev-dovecot.js';
import { startPostern, type PosternProcess } from '../test/helpers/postern-process.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { RawImap } from './lib/raw-imap.js';
import { freePort } from './lib/pass-through.js';

const SECONDS = Number(process.env.SCALE_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 8);
const SESSIONS = Number(process.env.SCALE_SESSIONS ?? 200);
const USERS = 20;
const HAPROXY = '/usr/sbin/haproxy';

if (!process.env.DATABASE_URL) throw new Error('set DATABASE_URL to a PostgreSQL server (several instances share it)');
if (!fs.existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: apt-get install haproxy`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-scale-'));
fs.chmodSync(work, 0o755);
const children: ChildProcess[] = [];
const instances: PosternProcess[] = [];
let stopDovecot: (() => Promise<void>) | null = null;


function rssKiB(pid: number): number {
  // The serve process is node running tsx: its own RSS (children excluded).
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function startHaproxy(backends: number[][]): Promise<number[]> {
  const fronts: number[] = [];
  const lines = ['global', '  maxconn 4000', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 5m', '  timeout server 5m'];
  for (const [i, ports] of backends.entries()) {
    const port = await freePort();
    fronts.push(port);
    lines.push(`frontend f${i}`, `  bind 127.0.0.1:${port}`, `  default_backend b${i}`, `backend b${i}`, '  balance leastconn');
    for (const [j, p] of ports!.entries()) lines.push(`  server s${j} 127.0.0.1:${p} send-proxy-v2`);
  }
  const cfg = path.join(work, `haproxy-${children.length}.cfg`);
  fs.writeFileSync(cfg, `${lines.join('\n')}\n`);
  const errors = fs.openSync(path.join(work, 'haproxy.err'), 'w');
  const child = spawn(HAPROXY, ['-db', '-f', cfg], { detached: true, stdio: ['ignore', errors, errors] });
  children.push(child);
  for (const port of fronts) {
    for (let i = 0; ; i++) {
      if (i === 200) throw new Error(`haproxy is not listening:\n${fs.readFileSync(path.join(work, 'haproxy.err'), 'utf8')}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1').once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return fronts;
}

type User = { name: string; app: string };

/** A negative port means: that instance directly, from 127.0.0.2 (an untrusted, ordinary client). */
function connect(port: number): Promise<RawImap> {
  return port < 0 ? RawImap.connect(-port, '127.0.0.1', '127.0.0.2') : RawImap.connect(port);
}

async function oneLogin(port: number, user: User): Promise<number> {
  const start = performance.now();
  const c = await connect(port);
  c.keepText = false;
  await c.login(user.name, user.app);
  await c.command('LOGOUT').catch(() => undefined);
  c.socket.destroy();
  return performance.now() - start;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function loginLatency(port: number, users: User[], n = 60): Promise<{ p50: number; p90: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await oneLogin(port, users[i % users.length]!));
  return { p50: percentile(ms, 0.5), p90: percentile(ms, 0.9) };
}

async function loginRate(port: number, users: User[]): Promise<{ perSecond: number; errors: number }> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        try {
          await oneLogin(port, users[i++ % users.length]!);
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { perSecond: done / SECONDS, errors };
}

async function holdSessions(port: number, users: User[], pids: number[]): Promise<{ held: number; failed: number; seconds: number; rssPerSessionKiB: number }> {
  // Growth from a fresh process's baseline: an upper bound per session, since the first sessions also pay
  // one-time costs (code compiled on first use, the database pool filling up, the heap growing in steps).
  const before = pids.reduce((s, pid) => s + rssKiB(pid), 0);
  const clients: RawImap[] = [];
  let failed = 0;
  const start = performance.now();
  // Opened CONCURRENCY at a time: all the clients come from one address, and a fresh instance answers an
  // address it has not seen log in with "try again" once its login queue for that address is full.
  for (let i = 0; i < SESSIONS; i += CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, SESSIONS - i) }, async (_, k) => {
        try {
          const c = await connect(port);
          c.keepText = false;
          await c.login(users[(i + k) % users.length]!.name, users[(i + k) % users.length]!.app);
          await c.command('SELECT INBOX');
          await c.idle();
          clients.push(c);
        } catch (e) {
          if (failed++ === 0) console.error(`first failed hold: ${(e as Error).message}`);
        }
      }),
    );
  }
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = pids.reduce((s, pid) => s + rssKiB(pid), 0);
  for (const c of clients) c.socket.destroy();
  await new Promise((r) => setTimeout(r, 2000));
  return { held: clients.length, failed, seconds, rssPerSessionKiB: clients.length ? (after - before) / clients.length : 0 };
}

async function main() {
  const dovecot = await startDovecot({ dir: path.join(work, 'dovecot'), maxSessions: SESSIONS * 2 + 100 });
  stopDovecot = () => dovecot.stop();
  const testDb = await createTestDatabase({ forcePostgres: true });
  const secretKey = crypto.randomBytes(32).toString('hex');
  const config = loadConfig({ ...process.env, DATABASE_URL: testDb.url, SECRET_KEY: secretKey, DATA_DIR: path.join(work, 'ctx'), LOG_LEVEL: 'silent' });
  const ctx = await createContext(config, { database: testDb.database });
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) {
    const name = `scale${i}`;
    const u = await createUser(ctx, { username: name, password: `password-${crypto.randomBytes(8).toString('hex')}` });
    users.push({ name, app: (await createAppPassword(ctx, { userId: u.id, services: ['imap'] })).secret });
  }
  const env = (name: string) => ({
    DATABASE_URL: testDb.url!,
    SECRET_KEY: secretKey,
    DATA_DIR: path.join(work, name),
    TRUSTED_PROXIES: '127.0.0.1',
    UPSTREAM_IMAP: `${dovecot.host}:${dovecot.port}`,
    UPSTREAM_MASTER_USER: dovecot.masterUser,
    UPSTREAM_MASTER_PASSWORD: dovecot.masterPassword,
    IMAP_MAX_CONNECTIONS_PER_ADDRESS: String(SESSIONS * 4),
    IMAP_SESSION_REUSE_SECONDS: '0',
  });
  const a = await startPostern(env('a'));
  const b = await startPostern(env('b'));
  instances.push(a, b);
  const [viaOne, viaTwo] = await startHaproxy([[a.imapPort], [a.imapPort, b.imapPort]]);
  // Direct clients connect from 127.0.0.2: not the trusted proxy, so the instance serves them without a header.
  const directPort = -a.imapPort;

  await oneLogin(directPort, users[0]!); // warm-up
  await oneLogin(viaOne!, users[0]!);
  const latDirect = await loginLatency(directPort, users);
  const latProxy = await loginLatency(viaOne!, users);
  const rateOne = await loginRate(viaOne!, users);
  const rateTwo = await loginRate(viaTwo!, users);
  const rateDirect = await loginRate(directPort, users);
  // Sessions are held on fresh instances: the login-rate runs above leave garbage that a later collection
  // frees, which would make the RSS growth per held session come out negative.
  const c = await startPostern(env('c'));
  const d = await startPostern(env('d'));
  const e = await startPostern(env('e'));
  instances.push(c, d, e);
  const [holdViaOne, holdViaTwo] = await startHaproxy([[c.imapPort], [d.imapPort, e.imapPort]]);
  for (const p of [c, d, e]) await oneLogin(-p.imapPort, users[0]!); // warm-up
  const holdOne = await holdSessions(holdViaOne!, users, [c.pid]);
  const holdTwo = await holdSessions(holdViaTwo!, users, [d.pid, e.pid]);

  const f = (n: number) => n.toFixed(1);
  console.log(`\nmachine: ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${SECONDS} s per rate, ${CONCURRENCY} clients, ${SESSIONS} sessions`);
  console.log('| measure | direct, 1 instance | haproxy, 1 instance | haproxy, 2 instances |');
  console.log('|---|---|---|---|');
  console.log(`| login (connect+LOGIN+LOGOUT) p50 / p90, sequential | ${f(latDirect.p50)} / ${f(latDirect.p90)} ms | ${f(latProxy.p50)} / ${f(latProxy.p90)} ms | |`);
  console.log(`| logins/s, ${CONCURRENCY} clients | ${f(rateDirect.perSecond)} (${rateDirect.errors} errors) | ${f(rateOne.perSecond)} (${rateOne.errors} errors) | ${f(rateTwo.perSecond)} (${rateTwo.errors} errors) |`);
  console.log(`| IMAP sessions held (IDLE), opened in | | ${holdOne.held}/${SESSIONS} in ${f(holdOne.seconds)} s | ${holdTwo.held}/${SESSIONS} in ${f(holdTwo.seconds)} s |`);
  console.log(`| Postern RSS per held session | | ${f(holdOne.rssPerSessionKiB)} KiB | ${f(holdTwo.rssPerSessionKiB)} KiB (both instances) |`);
  console.log(`haproxy + PROXY cost per login: p50 ${f(latProxy.p50 - latDirect.p50)} ms`);

  await ctx.liveSessions.close();
  await testDb.drop().catch(() => undefined);
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const p of instances) p.kill();
    await stopDovecot?.().catch(() => undefined);
    for (const c of children) if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  });
