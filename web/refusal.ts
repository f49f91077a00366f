/**
 * Refusing a request: audited as `web.request-refused` (who, where, why — never a token), then thrown as
 * an HTTPException that `app.onError` renders as a friendly page.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { audit } from '../src/audit.js';
import { recordRestrictedRefusal } from '../src/metrics/record.js';
import type { WebEnv } from './env.js';

export type RefusalReason =
  | 'cross-origin-form'
  | 'csrf-token-invalid'
  | 'session-invalid'
  | 'restricted-session'
  | 'alternate-login-session'
  | 'restricted-delete'
  /** The shared restricted rule's reason (src/restricted/rules.ts), e.g. `restricted.expunge`. */
  | `restricted.${string}`
  | 'body-too-large'
  | 'not-group-admin'
  | 'not-this-group';

type RefusalStatus = 401 | 403 | 404 | 413;

/** Audits the refusal; returns the exception for the caller to throw (so control flow stays visible). */
export async function refuse(
  c: Context<WebEnv>,
  status: RefusalStatus,
  reason: RefusalReason,
  userId: number | null = c.get('viewer')?.session.userId ?? null,
): Promise<HTTPException> {
  const ctx = c.get('ctx');
  if (reason.startsWith('restricted')) recordRestrictedRefusal('web', reason);
  try {
    await audit(ctx.db, {
      event: 'web.request-refused',
      userId,
      ip: c.get('ip'),
      service: 'web',
      details: { reason, method: c.req.method, path: c.req.path.slice(0, 200), status },
    });
  } catch (e) {
    // The refusal stands even if the audit write fails; the log says so.
    ctx.log.error({ err: e, reason }, 'could not audit a refused request');
  }
  ctx.log.warn({ reason, status, path: c.req.path, userId }, 'request refused');
  return new HTTPException(status, { message: reason });
}
