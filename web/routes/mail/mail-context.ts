/**
 * What every mail route needs: the session's store connection from the pool, the folder named in the
 * request, and the restricted rule for this session (one rule for every front: src/restricted/rules.ts).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ImapFlow } from 'imapflow';
import { restrictedRefusal, type MailAction, type Refusal } from '../../../src/restricted/rules.js';
import type { WebEnv } from '../../env.js';
import type { StorePool } from '../../mail/store-pool.js';
import { viewerOf } from '../../middleware/session.js';
import { refuse } from '../../refusal.js';

export function withStore<T>(c: Context<WebEnv>, pool: StorePool, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  return pool.use(viewerOf(c).session, fn);
}

/** The folder a request names (query or form), INBOX by default; bounded, no control characters. */
export function folderParam(value: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const v = (value ?? '').slice(0, 400).replace(/[\u0000-\u001f\u007f]/g, '');
  return v || 'INBOX';
}

export function positiveInt(value: string | undefined, fallback: number, max = 2 ** 31): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : fallback;
}

/** Null when this session may do `action` (full sessions may do everything), else the shared rule's refusal. */
export function refusalFor(c: Context<WebEnv>, action: MailAction): Refusal | null {
  return viewerOf(c).session.restricted ? restrictedRefusal(action) : null;
}

/** Audits (under the rule's reason) and refuses a request for something the session's controls did not offer. */
export async function refuseRestricted(c: Context<WebEnv>, refusal: Refusal): Promise<HTTPException> {
  await refuse(c, 403, refusal.reason as `restricted.${string}`);
  return new HTTPException(403, { message: refusal.reason, cause: { text: refusal.text } });
}
