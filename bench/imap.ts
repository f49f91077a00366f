/**
 * IMAP gateway benchmark (run by hand: `npm run bench:imap`; not part of npm test).
 * Side by side in one run, the same raw client against Dovecot directly and through Postern (a real
 * `postern serve` child process, so its RSS is the gateway's alone), on a 2,000-message, ~100 MB mailbox.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDovecot } from '../src/upstream/dev-dovecot.js';
import { startNginxMail } from './lib/nginx-mail.js';
import { startHaproxy, startNodeRelay } from './lib/pass-through.js';
import { RawImap } from './lib/raw-imap.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const MESSAGE_BYTES = 50 * 1024;
const IDLE_SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 1000);
const BIG_BYTES = 50 * 1024 * 1024;
/** Comma-separated subset to run while iterating: fetch,noop,login,idle,big (default: all). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'fetch,noop,login,idle,big').split(','));
/** Extra node flags for the gateway child, e.g. `--cpu-prof` to profile it. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const bin = path.resolve(import.meta.dirname, '../bin/postern.js');

function message(i: number, size: number): Buffer {
  const head = `From: bench@example.test\r\nSubject: bench ${i}\r\nMessage-ID: <b${i}@example.test>\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n';
  const body = line.repeat(Math.ceil((size - head.length) / line.length));
  return Buffer.from((head + body).slice(0, size));
}

function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function postern(args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  return execFileSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8' });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-'));
  fs.chmodSync(work, 0o755);
  const dovecot = await startDovecot({ dir: path.join(work, 'dovecot'), maxSessions: IDLE_SESSIONS + 200 });
  const direct = async () => {
    const c = await RawImap.connect(dovecot.port);
    await c.loginAsMaster('bench', dovecot.masterUser, dovecot.masterPassword);
    return c;
  };

  console.log(`filling the mailbox: ${MESSAGES} × ${MESSAGE_BYTES / 1024} KiB and one ${BIG_BYTES >> 20} MiB message…`);
  const filler = await direct();
  for (let i = 1; i <= MESSAGES; i++) await filler.append('INBOX', message(i, MESSAGE_BYTES));
  await filler.command('CREATE Big');
  if (ONLY.has('big')) await filler.append('Big', message(0, BIG_BYTES));
  filler.close();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: path.join(work, 'data'),
    DATABASE_URL: '',
    WEB_PORT: '0',
    IMAP_PORT: '0',
    SMTP_PORT: '0',
    LOG_LEVEL: 'warn',
    UPSTREAM_IMAP: `127.0.0.1:${dovecot.port}`,
    UPSTREAM_MASTER_USER: dovecot.masterUser,
    UPSTREAM_MASTER_PASSWORD: dovecot.masterPassword,
  };
  const password = crypto.randomBytes(12).toString('base64url');
  postern(['user', 'add', 'bench', '--password-stdin'], env, password);
  const app = JSON.parse(postern(['altlogin', 'add', 'bench', '--kind', 'app', '--services', 'imap', '--label', 'bench', '--json'], env)) as { secret: string };

  const child = spawn(process.execPath, [...NODE_ARGS, bin, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/imap\s+\S+:(\d+)/.test(out)) await sleep(100);
  const gatewayPort = Number(/imap\s+\S+:(\d+)/.exec(out)![1]);
  // `postern serve` runs the web front in the same process, so measure the gateway as it runs once that
  // front has served a page (what a page render leaves switched on for the whole process shows here).
  const webPage = await fetch(`${/web\s+(http:\S+)/.exec(out)![1]}login`);
  if (!webPage.ok) throw new Error(`the web front answered ${webPage.status}`);
  await webPage.text();
  const viaGateway = async () => {
    const c = await RawImap.connect(gatewayPort);
    await c.login('bench', app.secret);
    return c;
  };

  const rows: Array<[string, string, string, string]> = [];
  const ratio = (a: number, b: number) => (a / b).toFixed(2);

  // 1. Bulk FETCH throughput (best of 3).
  const fetchAll = async (open: () => Promise<RawImap>) => {
    let best = 0;
    for (let run = 0; run < 3; run++) {
      const c = await open();
      c.keepText = false;
      await c.command('EXAMINE INBOX');
      const t0 = performance.now();
      const r = await c.command('FETCH 1:* BODY.PEEK[]');
      const seconds = (performance.now() - t0) / 1000;
      best = Math.max(best, r.bytes / seconds / 1024 / 1024);
      c.close();
    }
    return best;
  };
  // The peer a user would pick instead of Postern: nginx's mail proxy, logging in to the store as the
  // same user through the same master login.
  const nginxPassword = crypto.randomBytes(12).toString('base64url');
  const nginx = await startNginxMail({ storePort: dovecot.port, dir: work, user: 'bench', password: nginxPassword,
    masterUser: dovecot.masterUser, masterPassword: dovecot.masterPassword });
  if (!nginx) console.log('nginx or libnginx-mod-mail is not installed: no nginx column');
  const viaNginx = async () => {
    const c = await RawImap.connect(nginx!.port);
    await c.login('bench', nginxPassword);
    return c;
  };
  if (ONLY.has('fetch')) {
    const fDirect = await fetchAll(direct);
    const fNginx = nginx ? await fetchAll(viaNginx) : NaN;
    const fGateway = await fetchAll(viaGateway);
    if (nginx) rows.push(['FETCH 1:* BODY.PEEK[] (MiB/s): nginx mail proxy', fDirect.toFixed(0), fNginx.toFixed(0), ratio(fNginx, fDirect)]);
    rows.push(['FETCH 1:* BODY.PEEK[] (MiB/s): Postern', fDirect.toFixed(0), fGateway.toFixed(0), `${ratio(fGateway, fDirect)} (target ≥ 0.9)`]);
    if (nginx) rows.push(['FETCH throughput, Postern ÷ nginx', '—', '—', `${ratio(fGateway, fNginx)} (target ≥ 1.0)`]);
  }

  // 2 and 3 compare several targets: Dovecot directly, the pass-through relays (what any extra hop costs
  // here, with no parsing at all) and Postern. They take turns in short rounds, so that a change in the
  // machine's state during the run (other load, CPU frequency, a vCPU's idle state) is shared by all.
  const relays = [await startNodeRelay(dovecot.port), await startHaproxy(dovecot.port, work)].filter((r) => r !== null);
  const targets = [
    { name: 'Dovecot direct', open: direct },
    ...relays.map((r) => ({ name: r.name, open: async () => {
      const c = await RawImap.connect(r.port);
      await c.loginAsMaster('bench', dovecot.masterUser, dovecot.masterPassword);
      return c;
    } })),
    ...(nginx ? [{ name: 'nginx mail proxy', open: viaNginx }] : []),
    { name: 'Postern', open: viaGateway },
  ];
  const compare = (label: string, values: number[], better: 'lower' | 'higher') => {
    const [base, ...others] = values;
    for (let i = 0; i < others.length; i++) {
      const target = targets[i + 1]!;
      rows.push([`${label}: ${target.name}`, base!.toFixed(0), others[i]!.toFixed(0), ratio(others[i]!, base!)]);
    }
    // The comparison that matters: Postern against the peer people deploy (issue #15's targets).
    const peer = targets.findIndex((t) => t.name === 'nginx mail proxy');
    if (peer > 0) {
      const bound = better === 'lower' ? '(target ≤ 1.0)' : '(target ≥ 1.0)';
      rows.push([`${label}, Postern ÷ nginx`, '—', '—', `${ratio(values[values.length - 1]!, values[peer]!)} ${bound}`]);
    }
  };

  // 2. NOOP round trip p50: 10 rounds of 300 NOOPs on each target's open session, after 500 to warm up.
  if (ONLY.has('noop')) {
    const sessions = await Promise.all(targets.map((t) => t.open()));
    const samples = sessions.map(() => [] as number[]);
    for (let round = -1; round < 10; round++) {
      for (const [i, c] of sessions.entries()) {
        for (let n = 0; n < (round < 0 ? 500 : 300); n++) {
          const t0 = performance.now();
          await c.command('NOOP');
          if (round >= 0) samples[i]!.push((performance.now() - t0) * 1000);
        }
      }
    }
    for (const c of sessions) c.close();
    compare('NOOP round trip p50 (µs)', samples.map((t) => percentile(t.sort((a, b) => a - b), 50)), 'lower');
  }

  // 3. Reconnect and log in (auth cache warm for the app password): 8 rounds of 1 s on each target.
  if (ONLY.has('login')) {
    const logins = targets.map(() => ({ n: 0, ms: 0 }));
    for (const t of targets) (await t.open()).close();
    for (let round = 0; round < 8; round++) {
      for (const [i, t] of targets.entries()) {
        const t0 = performance.now();
        while (performance.now() - t0 < 1000) {
          const c = await t.open();
          await c.command('LOGOUT').catch(() => undefined);
          c.close();
          logins[i]!.n++;
        }
        logins[i]!.ms += performance.now() - t0;
      }
    }
    compare('reconnect + login (logins/s)', logins.map((l) => l.n / (l.ms / 1000)), 'higher');
  }
  for (const r of relays) r.stop();
  nginx?.stop();

  // 4. Sessions in IDLE: gateway RSS growth per session. The baseline is taken after the same number of
  // sessions has been opened, logged in, idled and closed once, so that the heap, the code caches and the
  // allocator's arenas have already grown to their working size: what is left is what a live session holds.
  const openIdlers = async () => {
    const idlers: RawImap[] = [];
    for (let i = 0; i < IDLE_SESSIONS; i++) {
      const c = await viaGateway();
      await c.command('SELECT INBOX');
      await c.idle(); // the store's `+ idling` came back through the gateway
      idlers.push(c);
    }
    return idlers;
  };
  if (ONLY.has('idle')) {
    for (const c of await openIdlers()) c.close();
    await sleep(3000);
    const before = rssKiB(child.pid!);
    const idlers = await openIdlers();
    await sleep(2000);
    const during = rssKiB(child.pid!);
    const perSession = (during - before) / IDLE_SESSIONS;
    rows.push([`${IDLE_SESSIONS} sessions in IDLE: gateway RSS growth per session (KiB)`, '—', perSession.toFixed(1), 'limit 20']);
    for (const c of idlers) c.close();
    await sleep(1000);
  }

  // 5. Fetching a 50 MB message: peak gateway RSS growth.
  if (ONLY.has('big')) {
    const base = rssKiB(child.pid!);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(child.pid!))), 10);
    const big = await viaGateway();
    big.keepText = false;
    await big.command('EXAMINE Big');
    const r = await big.command('FETCH 1 BODY.PEEK[]');
    clearInterval(sampler);
    big.close();
    rows.push([`FETCH of a ${BIG_BYTES >> 20} MiB message: gateway RSS growth (MiB)`, '—', ((peak - base) / 1024).toFixed(1), `limit 16 (${(r.bytes / 1048576).toFixed(0)} MiB read)`]);
  }

  console.log('\n| measurement | Dovecot direct | through the relay | ratio / bound |\n|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);

  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  await dovecot.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
