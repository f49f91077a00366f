/**
 * Measurements under a flood (issue #11), at production argon2 cost, on loopback: the owner's login
 * latency while 150 junk logins arrive at once, and the memory one pre-login connection costs at the cap.
 * The numbers are printed for README "Throttling and floods"; the assertions are the targets.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImapGateway } from '../../../gateway/imap/server.js';
import { authenticate } from '../../../src/auth/authenticate.js';
import { PRODUCTION_ARGON2 } from '../../../src/auth/passwords.js';
import { getVerifyQueue } from '../../../src/auth/verify-queue.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let owner: MailUser;
beforeAll(async () => {
  live = await startLiveGateway({
    env: {
      ARGON2_MEMORY_KIB: String(PRODUCTION_ARGON2.memoryCost),
      ARGON2_TIME_COST: String(PRODUCTION_ARGON2.timeCost),
      ARGON2_PARALLELISM: String(PRODUCTION_ARGON2.parallelism),
    },
  });
  owner = await createMailUser(live.ctx, 'owner');
}, 60_000);
afterAll(() => live.close());

async function login(localAddress: string, pass: string): Promise<{ answer: string; ms: number }> {
  const c = await RawClient.connect(live.port, { localAddress });
  const start = performance.now();
  c.send(`L1 LOGIN ${owner.username} ${pass}\r\n`);
  const answer = (await c.waitFor(/^L1 [^\r]*\r\n/, 30_000))[0].trimEnd();
  const ms = performance.now() - start;
  c.close();
  return { answer, ms };
}

async function timedLogin(localAddress: string, pass: string): Promise<number> {
  const { answer, ms } = await login(localAddress, pass);
  expect(answer).toMatch(/^L1 OK /);
  return ms;
}

/** As a mail client does: on "try again" ([UNAVAILABLE]) wait a second and retry. Returns ms until logged in and tries. */
async function loginRetrying(localAddress: string, pass: string): Promise<{ ms: number; tries: number; busyMs: number[] }> {
  const start = performance.now();
  const busyMs: number[] = [];
  for (let tries = 1; ; tries++) {
    const { answer, ms } = await login(localAddress, pass);
    if (/^L1 OK /.test(answer)) return { ms: performance.now() - start, tries, busyMs };
    expect(answer).toMatch(/^L1 NO \[UNAVAILABLE\]/);
    busyMs.push(ms);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('under a flood of junk logins', () => {
  it('a known owner is served ahead of the flood; a new address is answered at once and gets in as the flood drains', async () => {
    // The owner logged in from this address before (on the web, so the IMAP login below is verified, not cached).
    expect((await authenticate(live.ctx, { username: owner.username, secret: owner.password, service: 'web', ip: '127.0.0.20' })).ok).toBe(true);
    const quiet = await timedLogin('127.0.0.22', owner.password);
    console.log(`owner login, no flood: ${Math.round(quiet)} ms`);
    // When the known owner's attempt took its place in the line (ticket.turn()). Before that it is admitted,
    // looks up its account and address and reserves its attempt, each waiting behind the flood's on the
    // database pool (longer on PostgreSQL than on PGlite); junk verifications that begin meanwhile are not
    // ahead of it in the line, so they are not counted.
    let ownerQueuedAt = Infinity;
    const starts: number[] = [];
    const hasher = live.ctx.hasher;
    const verify = hasher.verify.bind(hasher);
    let ownerStartedAt = Infinity;
    hasher.verify = (hash, password) => {
      const now = performance.now();
      starts.push(now);
      if (password === owner.password && now >= ownerQueuedAt) ownerStartedAt = Math.min(ownerStartedAt, now);
      return verify(hash, password);
    };
    const queue = getVerifyQueue(live.ctx);
    const admit = queue.admit.bind(queue);
    queue.admit = (ip, known) => {
      const ticket = admit(ip, known);
      if (ip !== '127.0.0.20' || !ticket) return ticket;
      return {
        turn: () => {
          ownerQueuedAt = Math.min(ownerQueuedAt, performance.now());
          return ticket.turn();
        },
        done: () => ticket.done(),
      };
    };
    // 150 junk logins at once from 10 addresses, half of them at the owner's account.
    const junk = await Promise.all(Array.from({ length: 150 }, (_, i) => RawClient.connect(live.port, { localAddress: `127.0.2.${(i % 10) + 1}` })));
    for (const [i, c] of junk.entries()) c.send(`J LOGIN ${i % 2 ? owner.username : `nobody${i}`} junk-${i}\r\n`);
    const [known, fresh] = await Promise.all([timedLogin('127.0.0.20', owner.password), loginRetrying('127.0.0.21', owner.password)]);
    // Junk verifications begun after the owner's attempt was queued and before its own began.
    const begunAhead = starts.filter((t) => t >= ownerQueuedAt && t < ownerStartedAt).length;
    const busy = junk.filter((c) => /^J NO \[UNAVAILABLE\]/m.test(c.text)).length;
    console.log(
      `owner login during a 150-login flood: known address ${Math.round(known)} ms (${begunAhead} junk verifications begun ahead of it once it was queued); new address logged in after ${Math.round(fresh.ms)} ms ` +
        `and ${fresh.tries} tries (busy answers in ${fresh.busyMs.map(Math.round).join(', ') || '-'} ms); ${busy} of 150 junk logins answered busy at once`,
    );
    // The rest are verified in turn (bounded by the queue); every junk login gets an answer.
    await Promise.all(junk.map((c) => c.waitFor(/^J (OK|NO|BAD)[^\r]*\r\n/, 60_000)));
    for (const c of junk) c.close();
    // Target: 2 s, which depends on the machine (one verification is ~130 ms on an idle 2-core machine). What
    // the queue guarantees, on any machine: once queued, the known owner waits at most for the verifications
    // already running (AUTH_VERIFY_CONCURRENCY), never behind the flood's queue.
    expect(ownerStartedAt).toBeLessThan(Infinity);
    expect(begunAhead).toBeLessThanOrEqual(live.ctx.config.AUTH_VERIFY_CONCURRENCY);
    if (known >= 2000) console.log(`owner latency ${Math.round(known)} ms is over the 2 s target on this machine (quiet: ${Math.round(quiet)} ms)`);
    // A new address may be told "try again" while the queue is full, without waiting for the queue: after
    // two database look-ups (slow on a loaded machine), never after the ~34 verifications ahead of it.
    for (const ms of fresh.busyMs) expect(ms).toBeLessThan(5000);
    expect(busy).toBeGreaterThan(0);
  }, 120_000);
});

describe('memory before login', () => {
  it('a pre-login connection holding an unfinished ID costs little memory', async () => {
    const n = 400;
    const gateway = await startImapGateway(live.ctx, { host: '127.0.0.1', port: 0, connectionCaps: { total: n, perAddress: n } });
    try {
      // A full collection before each reading, so garbage does not count (nor hide what is held).
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const settle = async () => {
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((r) => setTimeout(r, 100));
        }
        const m = process.memoryUsage();
        return { rss: m.rss, js: m.heapUsed + m.external };
      };
      const flood = async () => {
        const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(gateway.port, { localAddress: '127.0.4.2' })));
        // Each sends what pinned ~244 KiB before: an ID with literals, never finished.
        for (const c of clients) c.send('a ID ("name" {4000}\r\n');
        await Promise.all(clients.map((c) => c.waitFor(/^\+ /)));
        for (const c of clients) c.send(`${'x'.repeat(4000)} "version" {4000}\r\n${'y'.repeat(3000)}`);
        await new Promise((r) => setTimeout(r, 500));
        return clients;
      };
      // A first round warms up what the process keeps anyway (buffers, code), then the measured round.
      for (const c of await flood()) c.close();
      await new Promise((r) => setTimeout(r, 500));
      const before = await settle();
      const clients = await flood();
      const after = await settle();
      const perConnection = (after.rss - before.rss) / n;
      const jsPerConnection = (after.js - before.js) / n;
      console.log(
        `RSS per pre-login connection (gateway and client sides together): ${(perConnection / 1024).toFixed(1)} KiB, ` +
          `of which JS heap + buffers ${(jsPerConnection / 1024).toFixed(1)} KiB, over ${n} connections`,
      );
      for (const c of clients) c.close();
      // The collected literals alone are 8 KiB a connection; 244 KiB before the pre-login limits.
      expect(jsPerConnection).toBeGreaterThan(0);
      expect(jsPerConnection).toBeLessThan(64 * 1024);
      expect(perConnection).toBeLessThan(64 * 1024);
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
