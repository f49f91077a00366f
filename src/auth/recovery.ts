/**
 * The recovery path for a lost phone (issue 16): a one-time list marked `recovery`. Using it is what an
 * owner most needs to hear of, so each use is audited as `login.recovery-used` besides `login.succeeded`;
 * the login notices (issue 16, another part) mail the owner from that event.
 */
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import type { Service } from '../db/schema.js';

/**
 * A code of the recovery list (the way in for a lost phone) opened a session: recorded apart, so the
 * owner can be told and can revoke the list if it was not them (login notices, issue 16).
 */
export async function recordRecoveryUse(
  ctx: AppContext,
  attempt: { service: Service; ip: string },
  user: { id: number; groupId: number | null },
  login: { id: number; label: string },
): Promise<void> {
  await audit(ctx.db, { event: 'login.recovery-used', userId: user.id, groupId: user.groupId, ip: attempt.ip, service: attempt.service, details: { loginId: login.id, label: login.label, method: 'otp' } });
}
