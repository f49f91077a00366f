/**
 * Changes that wait for "confirm your password" (step-up). A form sent without a recent confirmation is
 * kept server-side, run once right after the confirmation, and forgotten after PENDING_ACTION_SECONDS, so
 * the change a person made is not silently dropped (issue 12).
 *
 * The form may hold a typed password (a new alternate password), so it is stored sealed with AES-256-GCM
 * under a key derived from SECRET_KEY, with the row id and session id as associated data (a row cannot be
 * moved to another session). It is bound to the web session that sent it: only that session, by its id
 * before the step-up rotates the token, can take it, and taking deletes it (`DELETE … RETURNING`), so it
 * runs at most once.
 */
import crypto from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { pendingActions } from '../db/schema.js';

export const PENDING_ACTION_SECONDS = 10 * 60;
const ID_SHAPE = /^[A-Za-z0-9_-]{24}$/;

export type PendingForm = Record<string, string | string[]>;

export interface PendingAction {
  path: string;
  form: PendingForm;
}

function sealingKey(secretKey: Buffer): Buffer {
  return crypto.createHmac('sha256', secretKey).update('postern pending-action seal v1').digest();
}

function seal(secretKey: Buffer, aad: string, form: PendingForm): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', sealingKey(secretKey), iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(form), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function unseal(secretKey: Buffer, aad: string, sealed: string): PendingForm | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = crypto.createDecipheriv('aes-256-gcm', sealingKey(secretKey), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as PendingForm;
  } catch {
    return null;
  }
}

/** Keeps a form until the session confirms its password; returns the id the confirm page carries. */
export async function savePendingAction(
  ctx: Pick<AppContext, 'db' | 'secretKey'>,
  input: { sessionId: string; userId: number; path: string; form: PendingForm },
): Promise<string> {
  const id = crypto.randomBytes(18).toString('base64url');
  await ctx.db.delete(pendingActions).where(lt(pendingActions.expiresAt, sql`now()`));
  await ctx.db.insert(pendingActions).values({
    id,
    sessionId: input.sessionId,
    userId: input.userId,
    path: input.path.slice(0, 300),
    sealedForm: seal(ctx.secretKey, `${id}|${input.sessionId}`, input.form),
    expiresAt: sql`now() + make_interval(secs => ${PENDING_ACTION_SECONDS})`,
  });
  return id;
}

/** Takes (and deletes) the session's pending action; null when unknown, another session's, or expired. */
export async function takePendingAction(
  ctx: Pick<AppContext, 'db' | 'secretKey'>,
  input: { id: string; sessionId: string; userId: number },
): Promise<PendingAction | null> {
  if (!ID_SHAPE.test(input.id)) return null;
  const [row] = await ctx.db
    .delete(pendingActions)
    .where(
      and(
        eq(pendingActions.id, input.id),
        eq(pendingActions.sessionId, input.sessionId),
        eq(pendingActions.userId, input.userId),
        gt(pendingActions.expiresAt, sql`now()`),
      ),
    )
    .returning();
  if (!row) return null;
  const form = unseal(ctx.secretKey, `${row.id}|${row.sessionId}`, row.sealedForm);
  return form ? { path: row.path, form } : null;
}

/** Whether an id could be one of ours (the confirm page carries it in its URL and form). */
export function isPendingActionId(id: string | undefined): id is string {
  return typeof id === 'string' && ID_SHAPE.test(id);
}
