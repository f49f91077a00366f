/**
 * The time that decides whether a 1-hour login window is still open. Production uses the database's
 * `now()`, one clock for every instance (an instance with a skewed clock cannot stretch a window); a test
 * injects `ctx.clock` to step past the hour without waiting for it.
 */
import { sql, type SQL } from 'drizzle-orm';

export interface HasClock {
  clock?: () => Date;
}

/** `now()`, or the injected time as a timestamptz parameter. */
export function nowSql(ctx: HasClock): SQL {
  return ctx.clock ? sql`${ctx.clock().toISOString()}::timestamptz` : sql`now()`;
}
