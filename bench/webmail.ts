/**
 * Webmail benchmark (run by hand as root: `npm run bench:webmail`; not part of npm test). Issue 13.
 *
 * In one run, on one private Dovecot (../shared/peers/dovecot-up.sh) holding a 10,000-message INBOX of
 * ~5 KB messages (../shared/peers/populate.py):
 *  - Postern's webmail: a real `postern serve` child (so its RSS is the web process's alone), driven over
 *    HTTP with one keep-alive connection and a cookie jar, like a browser;
 *  - Roundcube 1.6 with php-fpm (../shared/peers/roundcube-up.sh), its list/show requests timed by
 *    ../shared/peers/bench-webmail.py the way its UI makes them, and its search request timed here;
 *  - the imapflow floor: one kept ImapFlow connection doing exactly the IMAP work of each Postern page
 *    (the same web/mail functions the routes call), with no HTTP, session or rendering around it.
 * Then a 50 MB attachment download (web RSS growth) and 200 signed-in sessions each holding a store
 * connection (web RSS growth per session).
 *
 * Environment: BENCH_MESSAGES (10000), BENCH_N (30 samples a measurement), BENCH_WARM (50 untimed rounds
 * before each), BENCH_SESSIONS (200),
 * BENCH_ONLY (comma-separated subset of: postern,floor,roundcube,big,sessions), BENCH_PG (a PostgreSQL
 * server URL, e.g. postgres://postgres@127.0.0.1:5432/postgres: Postern runs on a database the bench
 * creates there and drops afterwards; without it, on PGlite in the work folder), BENCH_NODE_ARGS (extra
 * node flags for `postern serve`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_PROBE=1 (times,
 * before the table's rows, two requests that isolate Postern's own cost: HTTP alone, and the search
 * form, which adds the web session, one LIST and a page).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import { findSpecialFolder, listFolders } from '../web/mail/folders.js';
import { listPage } from '../web/mail/message-list.js';
import { openMessage } from '../web/mail/message-read.js';
import { searchResults, type SearchTerms } from '../web/mail/search.js';
import { freePort } from './lib/pass-through.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const MESSAGE_BYTES = 5000;
const N = Number(process.env.BENCH_N ?? 30);
/**
 * Untimed rounds before each measurement. A web server answers its millionth request, not its first: 50
 * rounds let V8 compile the hot paths (Postern's and the floor's alike) instead of timing the compiler;
 * Roundcube gets the same rounds (bench-webmail.py --warm).
 */
const WARM = Number(process.env.BENCH_WARM ?? 50);
const DEEP_PAGE = 100;
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const BIG_BYTES = 50 * 1024 * 1024;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'postern,floor,roundcube,big,sessions').split(','));
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PROBE = process.env.BENCH_PROBE === '1';
const PEERS = path.resolve(import.meta.dirname, '../../shared/peers');
const bin = path.resolve(import.meta.dirname, '../bin/postern.js');
const USER = 'alice';
const STORE_PASSWORD = 'secret';
/** One message's subject (populate.py numbers them from 0), matched by no other. */
const BENCH_PG = process.env.BENCH_PG ?? '';
const BENCH_DB = `postern_webmail_bench_${process.pid}`;
const SEARCH_SUBJECT = `message ${Math.floor(MESSAGES / 2) + 1}`;


function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Nearest-rank percentile, as bench-webmail.py computes it. */
function pct(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * CPU time (ms) a process has used so far, all its threads, from the scheduler's nanosecond counters: a
 * steadier comparison of two builds than latency on a shared 2-core machine.
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  return ns / 1e6;
}

interface Timing {
  p50: number;
  p95: number;
  /** Postern's own CPU per sample (ms), when its PID was given. */
  cpu?: number;
}

async function timed(fn: () => Promise<unknown>, n = N, warm = WARM, cpuPid?: number): Promise<Timing> {
  for (let i = 0; i < warm; i++) await fn();
  const out: number[] = [];
  const cpu0 = cpuPid ? cpuMs(cpuPid) : 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  const cpu = cpuPid ? (cpuMs(cpuPid) - cpu0) / n : undefined;
  out.sort((a, b) => a - b);
  return { p50: pct(out, 50), p95: pct(out, 95), ...(cpu !== undefined ? { cpu } : {}) };
}

/** A browser-like HTTP client: cookie jar, keep-alive (undici's pool), redirects by hand. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(method: string, p: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; location: string | null; body: string }> {
    // Uncompressed, as bench-webmail.py asks Roundcube (and Roundcube's nginx here compresses nothing).
    const h: Record<string, string> = { 'accept-encoding': 'identity', ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (form) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      h.origin = new URL(this.base).origin;
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(new URL(p, this.base), { method, headers: h, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '' || value === 'deleted' || value === '-del-') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  async get(p: string, headers?: Record<string, string>) {
    const r = await this.request('GET', p, undefined, headers);
    if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return r.body;
  }
}

/** Signs in to Postern's web front; answers the browser and its form token. */
async function posternLogin(base: string, password: string): Promise<{ b: Browser; csrf: string }> {
  const b = new Browser(base);
  const r = await b.request('POST', '/login', { username: USER, password });
  if (r.status !== 303 || r.location !== '/mail') throw new Error(`postern login: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  const page = await b.get('/mail');
  return { b, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

/** Roundcube's search request, as its search box sends it (program/js/app.js qsearch()). */
async function roundcubeSearch(base: string): Promise<Timing> {
  const b = new Browser(base);
  const login = await b.get('/');
  const token = /name="_token" value="([^"]+)"/.exec(login)![1]!;
  const r = await b.request('POST', '/?_task=login', { _token: token, _task: 'login', _action: 'login', _timezone: 'UTC', _url: '', _user: USER, _pass: STORE_PASSWORD });
  const home = r.status === 302 || r.status === 303 ? await b.get(r.location!) : r.body;
  const requestToken = /"request_token":"([^"]+)"/.exec(home)?.[1];
  if (!requestToken) throw new Error('roundcube login failed');
  const ajax = { 'x-roundcube-request': requestToken, 'x-requested-with': 'XMLHttpRequest', accept: 'application/json' };
  return timed(async () => {
    const q = new URLSearchParams({ _task: 'mail', _action: 'search', _q: SEARCH_SUBJECT, _headers: 'subject', _filter: 'ALL', _scope: 'base', _mbox: 'INBOX', _remote: '1', _unlock: `loading${Date.now()}` });
    const body = await b.get(`/?${q.toString()}`, ajax);
    if (!/add_message_row\(\d+/.test(body)) throw new Error(`roundcube search found nothing: ${body.slice(0, 300)}`);
  });
}

/** A message with one attachment of `bytes` random-ish bytes (built by nodemailer, never by hand). */
async function bigMessage(bytes: number): Promise<Buffer> {
  const content = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
  return new MailComposer({ from: 'big@example.org', to: `${USER}@example.org`, subject: 'big attachment', text: 'see attached', attachments: [{ filename: 'big.bin', content, contentType: 'application/octet-stream' }] }).compile().build();
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the peers install packages and start Dovecot, nginx and php-fpm');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-webmail-bench-'));
  fs.chmodSync(work, 0o755);
  const storePort = await freePort();
  const dovecotDir = path.join(work, 'dovecot');
  execFileSync('bash', [path.join(PEERS, 'dovecot-up.sh'), dovecotDir, String(storePort)], { stdio: 'inherit' });
  const children: ChildProcess[] = [];
  const rcDir = path.join(work, 'roundcube');
  const cleanup = () => {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGTERM');
    try {
      execFileSync('bash', [path.join(PEERS, 'roundcube-up.sh'), rcDir, 'stop']);
    } catch {
      /* not started */
    }
    if (BENCH_PG) execFileSync('psql', [BENCH_PG, '-qc', `DROP DATABASE IF EXISTS ${BENCH_DB}`]);
    try {
      execFileSync('doveadm', ['-c', path.join(dovecotDir, 'dovecot.conf'), 'stop']);
    } catch {
      /* already stopped */
    }
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    await run(work, storePort, dovecotDir, rcDir, children);
  } finally {
    cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function run(work: string, storePort: number, dovecotDir: string, rcDir: string, children: ChildProcess[]) {
  let t0 = performance.now();
  console.log(`filling ${USER}'s INBOX: ${MESSAGES} × ~${MESSAGE_BYTES} B (populate.py), and a ${BIG_BYTES >> 20} MiB attachment in Big…`);
  execFileSync('python3', [path.join(PEERS, 'populate.py'), '127.0.0.1', String(storePort), USER, String(MESSAGES), String(MESSAGE_BYTES)], { stdio: 'inherit' });
  // The floor's connection is set up as Postern's own store client is (src/upstream/store-client.ts: no COMPRESS).
  const store = () => new ImapFlow({ host: '127.0.0.1', port: storePort, secure: false, auth: { user: `${USER}*gw`, pass: 'gwsecret' }, logger: false, disableCompression: true });
  const filler = store();
  await filler.connect();
  await filler.mailboxCreate('Big');
  if (ONLY.has('big')) await filler.append('Big', await bigMessage(BIG_BYTES));
  await filler.logout();
  console.log(`  filled in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const webPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: path.join(work, 'data'),
    DATABASE_URL: BENCH_PG ? Object.assign(new URL(BENCH_PG), { pathname: `/${BENCH_DB}` }).toString() : '',
    WEB_PORT: String(webPort),
    PUBLIC_URL: `http://127.0.0.1:${webPort}`,
    IMAP_PORT: '0',
    SMTP_PORT: '0',
    LOG_LEVEL: 'warn',
    UPSTREAM_IMAP: `127.0.0.1:${storePort}`,
    UPSTREAM_MASTER_USER: 'gw',
    UPSTREAM_MASTER_PASSWORD: 'gwsecret',
    UPSTREAM_RESTRICTED_MASTER_USER: 'gwr',
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: 'gwrsecret',
  };
  if (BENCH_PG) {
    execFileSync('psql', [BENCH_PG, '-qc', `DROP DATABASE IF EXISTS ${BENCH_DB}`]);
    execFileSync('psql', [BENCH_PG, '-qc', `CREATE DATABASE ${BENCH_DB}`]);
    execFileSync(process.execPath, [bin, 'migrate'], { env, stdio: 'inherit' });
  }
  const webPassword = 'bench web password 1';
  execFileSync(process.execPath, [bin, 'user', 'add', USER, '--password-stdin'], { env, input: webPassword });
  const child = spawn(process.execPath, [...NODE_ARGS, bin, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${webPort}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/login`).then((r) => r.ok, () => false)) break;
    if (i > 300) throw new Error(`postern serve did not answer: ${out}`);
    await sleep(100);
  }

  type Row = { what: string; postern?: Timing; roundcube?: Timing; floor?: Timing };
  const rows: Row[] = [
    { what: 'message list, page 1' },
    { what: `message list, page ${DEEP_PAGE}` },
    { what: 'message view' },
    { what: `search (subject "${SEARCH_SUBJECT}", INBOX)` },
  ];
  const newest = async () => {
    const c = store();
    await c.connect();
    const lock = await c.getMailboxLock('INBOX');
    try {
      const m = await c.fetchOne('*', { uid: true });
      if (!m) throw new Error('INBOX is empty');
      return m.uid;
    } finally {
      lock.release();
      await c.logout();
    }
  };
  const uid = await newest();
  const terms: SearchTerms = { folder: 'INBOX', from: '', to: '', subject: SEARCH_SUBJECT, body: '', since: '', before: '', unread: false, flagged: false };

  // Each target's four measurements run back to back, and the targets take turns (Postern, floor,
  // Roundcube), so a change in the machine's load hits all three alike as far as possible.
  if (ONLY.has('postern')) {
    t0 = performance.now();
    const { b, csrf } = await posternLogin(base, webPassword);
    if (PROBE) {
      // Where Postern's own time per request goes: HTTP alone, then with the web session, a store call and a page.
      const probes: Array<[string, () => Promise<unknown>]> = [
        ['GET /healthz (HTTP and the middleware, no session)', () => b.get('/healthz')],
        ['GET /mail/search (session, folder list, page)', () => b.get('/mail/search')],
      ];
      for (const [what, fn] of probes) {
        const t = await timed(fn);
        console.log(`  probe: ${what}: ${t.p50.toFixed(2)} / ${t.p95.toFixed(2)} ms`);
      }
    }
    const pid = child.pid!;
    rows[0]!.postern = await timed(() => b.get('/mail?folder=INBOX'), N, WARM, pid);
    rows[1]!.postern = await timed(() => b.get(`/mail?folder=INBOX&page=${DEEP_PAGE}`), N, WARM, pid);
    rows[2]!.postern = await timed(() => b.get(`/mail/message?folder=INBOX&uid=${uid}`), N, WARM, pid);
    rows[3]!.postern = await timed(async () => {
      const r = await b.request('POST', '/mail/search', { _csrf: csrf, folder: 'INBOX', subject: SEARCH_SUBJECT });
      if (r.status !== 303) throw new Error(`search: HTTP ${r.status}`);
      const page = await b.get(r.location!);
      if (!page.includes('1 message found')) throw new Error('postern search did not find the message');
    }, N, WARM, pid);
    console.log(`  postern done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (ONLY.has('floor')) {
    const c = store();
    await c.connect();
    rows[0]!.floor = await timed(async () => (await listFolders(c), await listPage(c, 'INBOX', 1, false)));
    rows[1]!.floor = await timed(async () => (await listFolders(c), await listPage(c, 'INBOX', DEEP_PAGE, false)));
    rows[2]!.floor = await timed(async () => (await openMessage(c, 'INBOX', uid, { markSeen: true }), await listFolders(c), await findSpecialFolder(c, '\\Trash')));
    rows[3]!.floor = await timed(async () => {
      if ((await searchResults(c, terms, 1)).messages.length !== 1) throw new Error('floor search did not find the message');
    });
    await c.logout();
  }
  let rcJson: Record<string, number> | null = null;
  if (ONLY.has('roundcube')) {
    t0 = performance.now();
    const rcPort = await freePort();
    execFileSync('bash', [path.join(PEERS, 'roundcube-up.sh'), rcDir, String(rcPort), String(storePort)], { stdio: 'inherit' });
    const rcBase = `http://127.0.0.1:${rcPort}/`;
    const fpmPid = fs.readFileSync(path.join(rcDir, 'php-fpm.pid'), 'utf8').trim();
    const py = execFileSync('python3', [path.join(PEERS, 'bench-webmail.py'), 'roundcube', rcBase, USER, STORE_PASSWORD, '--n', String(N), '--warm', String(WARM), '--deep-page', String(DEEP_PAGE), '--rss-pid', fpmPid], { encoding: 'utf8' });
    rcJson = JSON.parse(py.trim().split('\n').pop()!) as Record<string, number>;
    rows[0]!.roundcube = { p50: rcJson.list_p50_ms!, p95: rcJson.list_p95_ms! };
    rows[1]!.roundcube = { p50: rcJson.deep_list_p50_ms!, p95: rcJson.deep_list_p95_ms! };
    rows[2]!.roundcube = { p50: rcJson.show_p50_ms!, p95: rcJson.show_p95_ms! };
    rows[3]!.roundcube = await roundcubeSearch(rcBase);
    console.log(`  roundcube done in ${((performance.now() - t0) / 1000).toFixed(0)} s (bench-webmail.py: ${py.trim()})`);
  }

  const extra: string[] = [];
  // A 50 MB attachment, streamed from the store: peak web RSS growth over the download.
  if (ONLY.has('big')) {
    const { b } = await posternLogin(base, webPassword);
    const html = await b.get('/mail?folder=Big');
    const href = /href="(\/mail\/message\?[^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const msg = await b.get(href);
    const part = /href="(\/mail\/message\/part\?[^"]+)"/.exec(msg)![1]!.replace(/&amp;/g, '&');
    await sleep(1000);
    const before = rssKiB(child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(child.pid!))), 10);
    const res = await fetch(new URL(part, base), { headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    let bytes = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) bytes += chunk.length;
    clearInterval(sampler);
    extra.push(`| ${BIG_BYTES >> 20} MB attachment download: web RSS growth | ${((peak - before) / 1024).toFixed(1)} MiB (${(bytes / 1048576).toFixed(1)} MiB received) | limit 16 MiB |`);
  }
  // Sessions holding a store connection each. The baseline follows a round of as many sessions opened,
  // used and signed out, so that heap, code caches and allocator arenas are at their working size.
  if (ONLY.has('sessions')) {
    const openSessions = async () => {
      const list: Array<{ b: Browser; csrf: string }> = [];
      for (let i = 0; i < SESSIONS; i++) list.push(await posternLogin(base, webPassword));
      return list;
    };
    for (const s of await openSessions()) await s.b.request('POST', '/logout', { _csrf: s.csrf });
    await sleep(3000);
    const before = rssKiB(child.pid!);
    const live = await openSessions();
    await sleep(2000);
    const during = rssKiB(child.pid!);
    extra.push(`| ${SESSIONS} signed-in sessions, each holding a store connection: web RSS growth per session | ${((during - before) / SESSIONS).toFixed(1)} KiB | — |`);
    for (const s of live) await s.b.request('POST', '/logout', { _csrf: s.csrf });
  }

  const f = (t?: Timing) => (t ? `${t.p50.toFixed(1)} / ${t.p95.toFixed(1)}${t.cpu !== undefined ? ` (CPU ${t.cpu.toFixed(2)})` : ''}` : '—');
  const ratio = (a?: Timing, b?: Timing) => (a && b ? (a.p50 / b.p50).toFixed(2) : '—');
  console.log(`\n${MESSAGES} messages in INBOX, ${N} samples each, Postern on ${BENCH_PG ? 'PostgreSQL' : 'PGlite'}, load ${os.loadavg()[0]!.toFixed(1)}; ms, p50 / p95 (Postern's own CPU per request, all threads)`);
  console.log('\n| request | Postern | Roundcube | imapflow floor | Postern ÷ Roundcube (≤ 0.5) | Postern ÷ floor (≤ 1.5) |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.what} | ${f(r.postern)} | ${f(r.roundcube)} | ${f(r.floor)} | ${ratio(r.postern, r.roundcube)} | ${ratio(r.postern, r.floor)} |`);
  if (extra.length) console.log(`\n| measurement | Postern | bound |\n|---|---|---|\n${extra.join('\n')}`);
  if (rcJson) console.log(`\nRoundcube extras: pagenav p50 ${rcJson.pagenav_p50_ms} ms, php-fpm RSS max ${rcJson.rss_total_max_kb} KiB`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
