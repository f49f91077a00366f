/**
 * drizzle wraps driver errors ("Failed query: …") and keeps the PostgreSQL error as `cause`; postgres.js
 * and PGlite both expose SQLSTATE as `code` and the constraint name. These helpers look through the chain.
 */
export interface PgErrorInfo {
  /** SQLSTATE, e.g. 23505 unique_violation, 23514 check_violation, 40001 serialization_failure. */
  code: string;
  constraint?: string;
}

export function pgError(e: unknown): PgErrorInfo | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = cur as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (typeof c.code === 'string' && /^[0-9A-Z]{5}$/.test(c.code)) {
      const constraint = (c.constraint_name ?? c.constraint) as string | undefined;
      return { code: c.code, constraint };
    }
  }
  return null;
}

export const isUniqueViolation = (e: unknown) => pgError(e)?.code === '23505';
export const isCheckViolation = (e: unknown, constraint?: string) => {
  const info = pgError(e);
  return info?.code === '23514' && (constraint === undefined || info.constraint === constraint);
};

/**
 * postgres.js connection failures, socket errors, and the SQLSTATEs PostgreSQL sends when it cannot serve
 * (class 08 connection exception, 57P01–57P03 shutdown/starting, 53300 too many connections, 57014
 * statement_timeout).
 */
const UNAVAILABLE_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
]);

/** Did this error happen because the database is down or overloaded (as opposed to a bug or bad data)? */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  }
  return false;
}
