/**
 * Throttling of logins, in the database so every gateway instance shares it. Three counters:
 *
 *  - `pair:<username>|<ip>`: one client guessing one account. Strict: 5 free failures, then 2, 4, 8 … s,
 *    at most 15 min. This is what stops an ordinary online guessing attack.
 *  - `ip:<address>`: one client guessing many accounts (credential stuffing). 30 free failures per hour,
 *    then doubling delays up to 15 min. IPv6 clients are counted per /64, the block one host usually owns.
 *  - `user:<username>`: everybody guessing one account (a botnet spreading guesses across addresses). It
 *    never blocks by itself, so an attacker cannot lock the owner out. After ACCOUNT_UNDER_ATTACK_FAILURES
 *    failures in 24 h the account is "under attack": every address the account has not logged in from
 *    successfully in the last 30 days then gets at most UNDER_ATTACK_TRIES_PER_ADDRESS tries per 24 h on it.
 *    The budget is per address, so the attacker's addresses cannot spend the one of the owner's hotel
 *    kiosk; addresses the owner has used before are exempt altogether.
 *
 * Reserve, then settle: an attempt is counted (`reserveAttempt`, one transaction holding the counters'
 * row locks) *before* its secret is verified, and the decision includes every attempt still being verified.
 * So N concurrent attempts are throttled exactly like N sequential ones (issue #11: a burst of 120 used to
 * be verified in full because each was checked before any failure was recorded). A failure leaves the
 * reservation as it is; a success clears the pair and account counters and returns its reservation on the
 * address counter (which a success does not clear: otherwise an attacker could reset it by logging in to
 * an account of their own).
 *
 * Keys use the login name, not the user id, so unknown accounts are throttled exactly like real ones and
 * throttling reveals nothing about which names exist. Counters forget failures older than their window
 * (24 h, 1 h for addresses).
 */
import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import net from 'node:net';
import type { AppContext } from '../context.js';
import { auditEvents, throttle } from '../db/schema.js';

interface Policy {
  /** Failures older than this are forgotten. */
  windowSeconds: number;
  /** Failures in the window before any delay. */
  freeFailures: number;
  /** Delay after the n-th failure in the window (0 = none). */
  delaySeconds(n: number): number;
}

const doubling = (free: number, cap: number): Policy['delaySeconds'] => (n) => (n <= free ? 0 : Math.min(cap, 2 ** (n - free)));

export const THROTTLE_POLICIES = {
  pair: { windowSeconds: 24 * 3600, freeFailures: 5, delaySeconds: doubling(5, 15 * 60) },
  ip: { windowSeconds: 3600, freeFailures: 30, delaySeconds: doubling(30, 15 * 60) },
  user: { windowSeconds: 24 * 3600, freeFailures: Infinity, delaySeconds: doubling(Infinity, 0) },
} satisfies Record<string, Policy>;

/** Failures on one account in 24 h (from anywhere) after which unknown addresses get only a small budget. */
export const ACCOUNT_UNDER_ATTACK_FAILURES = 10;
/**
 * Tries per 24 h that one unknown address has at an account under attack: enough for the owner at a new
 * address to get a password in despite a typo, while a botnet of M addresses gets 3·M guesses a day on it.
 */
export const UNDER_ATTACK_TRIES_PER_ADDRESS = 3;
const KNOWN_ADDRESS_DAYS = 30;

type CounterKind = keyof typeof THROTTLE_POLICIES;
const KINDS = Object.keys(THROTTLE_POLICIES) as CounterKind[];

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

/** One counter as the decision sees it: failures still in the window, seconds blocked, seconds of window left. */
interface CounterState {
  failures: number;
  waitSeconds: number;
  windowLeftSeconds: number;
}

const counterColumns = {
  key: throttle.key,
  failures: throttle.failures,
  age: sql<number>`extract(epoch from now() - ${throttle.lastFailureAt})`.mapWith(Number),
  wait: sql<number>`coalesce(extract(epoch from ${throttle.blockedUntil} - now()), 0)`.mapWith(Number),
};

type CounterRow = { key: string; failures: number; age: number; wait: number };

function counterStates(rows: CounterRow[], keys: Record<CounterKind, string>): Record<CounterKind, CounterState> {
  const states = {} as Record<CounterKind, CounterState>;
  for (const kind of KINDS) {
    const row = rows.find((r) => r.key === keys[kind]);
    const { windowSeconds } = THROTTLE_POLICIES[kind];
    const live = row && row.age <= windowSeconds;
    states[kind] = live
      ? { failures: row.failures, waitSeconds: Math.max(0, row.wait), windowLeftSeconds: windowSeconds - row.age }
      : { failures: 0, waitSeconds: 0, windowLeftSeconds: 0 };
  }
  return states;
}

/** The one rule, for reservations and read-only checks alike. */
function judge(states: Record<CounterKind, CounterState>, knownAddress: boolean): ThrottleVerdict {
  let wait = Math.max(states.pair.waitSeconds, states.ip.waitSeconds);
  const underAttack = states.user.failures >= ACCOUNT_UNDER_ATTACK_FAILURES;
  if (!knownAddress && underAttack && states.pair.failures >= UNDER_ATTACK_TRIES_PER_ADDRESS) {
    wait = Math.max(wait, states.pair.windowLeftSeconds);
  }
  return wait > 0 ? { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(wait)) } : { blocked: false, retryAfterSeconds: 0 };
}

/** Whether `ip` is an address the account logged in from successfully in the last 30 days. */
export async function isKnownAddress(ctx: AppContext, userId: number | null, ip: string): Promise<boolean> {
  // Unknown accounts run the same query (no row has id 0), so its time does not tell names apart.
  const [row] = await ctx.db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.userId, userId ?? 0),
        eq(auditEvents.event, 'login.succeeded'),
        eq(auditEvents.ip, ip),
        gt(auditEvents.at, sql`now() - make_interval(days => ${KNOWN_ADDRESS_DAYS})`),
      ),
    )
    .orderBy(desc(auditEvents.at))
    .limit(1);
  return Boolean(row);
}

/**
 * A counted attempt, to be settled by recordSuccess (or left as the failure it was counted as).
 * Passed along in the attempt so the shared success/failure recording does not count it twice.
 */
export interface Reservation {
  readonly keys: Record<CounterKind, string>;
  /** The counters counted in advance; a failure adds the others afterwards. */
  readonly kinds: readonly CounterKind[];
}

export type ReserveResult = ({ blocked: false } & { reservation: Reservation }) | ({ blocked: true; retryAfterSeconds: number });

/**
 * Counts an attempt as a failure before it is verified, if the throttle lets it through. One transaction
 * holding the row locks of the three counters (locked in key order, so concurrent reservations queue
 * instead of deadlocking): the decision sees every earlier reservation, settled or not.
 */
export async function reserveAttempt(
  ctx: AppContext,
  attempt: { username: string; ip: string; knownAddress: boolean },
): Promise<ReserveResult> {
  const keys = counterKeys(attempt.username, attempt.ip);
  // A known address is not judged by the account counter, so it does not wait for that row's lock (which
  // a botnet attacking the account keeps busy); its failure is added to the account counter afterwards.
  const kinds = attempt.knownAddress ? KINDS.filter((k) => k !== 'user') : KINDS;
  const sorted = kinds.map((k) => keys[k]).sort();
  return ctx.db.transaction(async (tx) => {
    // One statement makes sure the rows exist and locks them (a no-op update on conflict takes the row
    // lock and returns the row): the lock is held for two round trips only, so a burst queues briefly.
    const rows = await tx
      .insert(throttle)
      .values(sorted.map((key) => ({ key, failures: 0 })))
      .onConflictDoUpdate({ target: throttle.key, set: { key: sql`excluded.key` } })
      .returning(counterColumns);
    const states = counterStates(rows, keys);
    const verdict = judge(states, attempt.knownAddress);
    if (verdict.blocked) return { blocked: true, retryAfterSeconds: verdict.retryAfterSeconds };
    const next = kinds.map((kind) => {
      const failures = states[kind].failures + 1;
      return sql`(${keys[kind]}::text, ${failures}::int, ${THROTTLE_POLICIES[kind].delaySeconds(failures)}::int)`;
    });
    // Pessimistic: blocked as if this attempt fails; a success lifts it (recordSuccess).
    await tx.execute(sql`
      update ${throttle} set failures = v.failures, last_failure_at = now(),
        blocked_until = case when v.delay > 0 then now() + make_interval(secs => v.delay) else null end
      from (values ${sql.join(next, sql`, `)}) as v(key, failures, delay)
      where ${throttle.key} = v.key`);
    return { blocked: false, reservation: { keys, kinds } };
  });
}

/**
 * reserveAttempt for fronts that know the user (the web's step-up, password and code forms): the attempt
 * is counted before the secret or code is checked, judged as a known address when the account logged in
 * from this address before, or when `knownDevice` (the owner's browser, web/known-device.ts). Settle it
 * with recordFailure/recordLoginFailure (a wrong secret: the reservation stays), recordSuccess, or
 * releaseReservation (right, and not a login).
 */
export async function reserveUserAttempt(
  ctx: AppContext,
  attempt: { username: string; ip: string; userId: number | null; knownDevice?: boolean },
): Promise<ReserveResult> {
  const knownAddress = attempt.knownDevice === true || (await isKnownAddress(ctx, attempt.userId, attempt.ip));
  return reserveAttempt(ctx, { username: attempt.username, ip: attempt.ip, knownAddress });
}

/** Read-only: whether a login attempt would be let through now (what the counters say; nothing is counted). */
export async function checkThrottle(
  ctx: AppContext,
  attempt: { username: string; ip: string; userId: number | null },
): Promise<ThrottleVerdict> {
  const keys = counterKeys(attempt.username, attempt.ip);
  const rows = await ctx.db.select(counterColumns).from(throttle).where(inArray(throttle.key, Object.values(keys)));
  const states = counterStates(rows, keys);
  const knownAddress = states.user.failures >= ACCOUNT_UNDER_ATTACK_FAILURES ? await isKnownAddress(ctx, attempt.userId, attempt.ip) : false;
  return judge(states, knownAddress);
}

/** Counts a failure on the counters its reservation did not count already (all three without one); returns the longest new delay. */
export async function recordFailure(ctx: AppContext, attempt: { username: string; ip: string; reservation?: Reservation }): Promise<number> {
  const keys = counterKeys(attempt.username, attempt.ip);
  const reserved = attempt.reservation?.kinds ?? [];
  const rest = KINDS.filter((kind) => !reserved.includes(kind));
  if (!rest.length) return 0;
  const delays = await Promise.all(rest.map((kind) => bumpCounter(ctx, keys[kind], THROTTLE_POLICIES[kind])));
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

/**
 * After a success: the pair and account counters start again (the address counter does not; see above),
 * and a reserved attempt gives its count on the address counter back, lifting the delay it had imposed.
 */
export async function recordSuccess(ctx: AppContext, attempt: { username: string; ip: string; reservation?: Reservation }): Promise<void> {
  const keys = counterKeys(attempt.username, attempt.ip);
  await ctx.db.delete(throttle).where(inArray(throttle.key, [keys.pair, keys.user]));
  if (attempt.reservation?.kinds.includes('ip')) await giveBack(ctx, attempt.reservation, ['ip']);
}

/**
 * A reserved attempt that was not a wrong guess after all (the SMS password was right and a code went
 * out): its count goes back on every counter, lifting the delay it had imposed.
 */
export async function releaseReservation(ctx: AppContext, reservation: Reservation): Promise<void> {
  await giveBack(ctx, reservation, reservation.kinds);
}

async function giveBack(ctx: AppContext, reservation: Reservation, kinds: readonly CounterKind[]): Promise<void> {
  for (const kind of kinds) {
    const free = Math.min(THROTTLE_POLICIES[kind].freeFailures, 2 ** 31 - 1);
    await ctx.db
      .update(throttle)
      .set({
        failures: sql`greatest(${throttle.failures} - 1, 0)`,
        blockedUntil: sql`case when ${throttle.failures} - 1 <= ${free} then null else ${throttle.blockedUntil} end`,
      })
      .where(eq(throttle.key, reservation.keys[kind]));
  }
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
