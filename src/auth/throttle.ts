/**
 * Throttling of failed logins, in the database so every gateway instance shares it. Three counters:
 *
 *  - `pair:<username>|<ip>`: one client guessing one account. Strict: 5 free failures, then 2, 4, 8 … s,
 *    at most 15 min. This is what stops an ordinary online guessing attack.
 *  - `ip:<address>`: one client guessing many accounts (credential stuffing). 30 free failures per hour,
 *    then doubling delays up to 15 min. IPv6 clients are counted per /64, the block one host usually owns.
 *  - `user:<username>`: everybody guessing one account (a botnet spreading guesses across addresses). Soft,
 *    so an attacker cannot lock the owner out: 10 free, then 1 s per failure up to 60 s, and after 100
 *    consecutive failures 1 hour (NIST SP 800-63B §5.2.2: at most 100 consecutive failures, never a
 *    permanent lockout). Addresses the account logged in from successfully in the last 30 days are exempt
 *    from this counter, so the owner at home is not locked out by strangers' failures.
 *
 * Keys use the login name, not the user id, so unknown accounts are throttled exactly like real ones and
 * throttling reveals nothing about which names exist. A success clears the pair and account counters but
 * not the address counter: otherwise an attacker could reset it by logging in to an account of their own.
 * Counters forget failures older than their window (24 h, 1 h for addresses).
 */
import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import net from 'node:net';
import type { AppContext } from '../context.js';
import { auditEvents, throttle } from '../db/schema.js';

interface Policy {
  /** Failures older than this are forgotten. */
  windowSeconds: number;
  /** Delay after the n-th consecutive failure (0 = none). */
  delaySeconds(n: number): number;
}

const doubling = (free: number, cap: number) => (n: number) => (n <= free ? 0 : Math.min(cap, 2 ** (n - free)));

export const THROTTLE_POLICIES = {
  pair: { windowSeconds: 24 * 3600, delaySeconds: doubling(5, 15 * 60) },
  ip: { windowSeconds: 3600, delaySeconds: doubling(30, 15 * 60) },
  user: {
    windowSeconds: 24 * 3600,
    delaySeconds: (n: number) => (n >= MAX_CONSECUTIVE_ACCOUNT_FAILURES ? 3600 : n <= 10 ? 0 : Math.min(60, n - 10)),
  },
} satisfies Record<string, Policy>;

/** NIST SP 800-63B §5.2.2. */
export const MAX_CONSECUTIVE_ACCOUNT_FAILURES = 100;
const KNOWN_ADDRESS_DAYS = 30;

type CounterKind = keyof typeof THROTTLE_POLICIES;

/** The address a counter is kept for: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function throttleAddress(ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped) return v4mapped[1]!;
  if (net.isIPv6(ip)) return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
  return ip;
}

function expandIpv6(ip: string): string[] {
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const a = head ? head.split(':') : [];
  const b = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - a.length - b.length).fill('0');
  return [...a, ...zeros, ...b].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}

function counterKeys(username: string, ip: string): Record<CounterKind, string> {
  const name = username.slice(0, 100);
  const addr = throttleAddress(ip);
  return { pair: `pair:${name}|${addr}`, ip: `ip:${addr}`, user: `user:${name}` };
}

export interface ThrottleVerdict {
  blocked: boolean;
  retryAfterSeconds: number;
}

/**
 * Whether a login attempt may proceed. `userId` (null for unknown accounts) is only used to exempt the
 * account's known addresses from the account-wide counter.
 */
export async function checkThrottle(
  ctx: AppContext,
  attempt: { username: string; ip: string; userId: number | null },
): Promise<ThrottleVerdict> {
  const keys = counterKeys(attempt.username, attempt.ip);
  const rows = await ctx.db
    .select({ key: throttle.key, wait: sql<number>`extract(epoch from ${throttle.blockedUntil} - now())`.mapWith(Number) })
    .from(throttle)
    .where(and(inArray(throttle.key, Object.values(keys)), gt(throttle.blockedUntil, sql`now()`)));
  let wait = 0;
  for (const row of rows) {
    if (row.key === keys.user && (await isKnownAddress(ctx, attempt.userId, attempt.ip))) continue;
    wait = Math.max(wait, row.wait);
  }
  return wait > 0 ? { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(wait)) } : { blocked: false, retryAfterSeconds: 0 };
}

async function isKnownAddress(ctx: AppContext, userId: number | null, ip: string): Promise<boolean> {
  if (userId === null) return false;
  const [row] = await ctx.db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.userId, userId),
        eq(auditEvents.event, 'login.succeeded'),
        eq(auditEvents.ip, ip),
        gt(auditEvents.at, sql`now() - make_interval(days => ${KNOWN_ADDRESS_DAYS})`),
      ),
    )
    .orderBy(desc(auditEvents.at))
    .limit(1);
  return Boolean(row);
}

/** Counts a failure on all three counters; returns the longest delay now in force. */
export async function recordFailure(ctx: AppContext, attempt: { username: string; ip: string }): Promise<number> {
  const keys = counterKeys(attempt.username, attempt.ip);
  const delays = await Promise.all(
    (Object.keys(keys) as CounterKind[]).map((kind) => bumpCounter(ctx, keys[kind], THROTTLE_POLICIES[kind])),
  );
  return Math.max(...delays);
}

async function bumpCounter(ctx: AppContext, key: string, policy: Policy): Promise<number> {
  const [row] = await ctx.db
    .insert(throttle)
    .values({ key, failures: 1 })
    .onConflictDoUpdate({
      target: throttle.key,
      set: {
        failures: sql`case when ${throttle.lastFailureAt} < now() - make_interval(secs => ${policy.windowSeconds})
                      then 1 else ${throttle.failures} + 1 end`,
        lastFailureAt: sql`now()`,
      },
    })
    .returning({ failures: throttle.failures });
  const delay = policy.delaySeconds(row!.failures);
  if (delay > 0) {
    await ctx.db
      .update(throttle)
      .set({ blockedUntil: sql`now() + make_interval(secs => ${delay})` })
      .where(eq(throttle.key, key));
  }
  return delay;
}

/** After a success: the pair and account counters start again (the address counter does not; see above). */
export async function recordSuccess(ctx: AppContext, attempt: { username: string; ip: string }): Promise<void> {
  const keys = counterKeys(attempt.username, attempt.ip);
  await ctx.db.delete(throttle).where(inArray(throttle.key, [keys.pair, keys.user]));
}

/** Removes counters that no longer block anything and whose window has passed (run periodically). */
export async function pruneThrottle(ctx: AppContext): Promise<number> {
  const rows = await ctx.db
    .delete(throttle)
    .where(
      sql`${throttle.lastFailureAt} < now() - interval '1 day' and (${throttle.blockedUntil} is null or ${throttle.blockedUntil} < now())`,
    )
    .returning({ key: throttle.key });
  return rows.length;
}
