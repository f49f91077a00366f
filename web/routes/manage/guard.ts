/**
 * The one check in front of every Manage page and form: the session's user administers the group named in
 * the URL, as the database says now (not as the session remembered). An outsider — an administrator of
 * another group, or anyone else — gets 404, the same answer as for a group that does not exist, so group
 * ids cannot be probed; a plain member of the group gets 403. Both are audited.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { findGroupRole } from '../../../src/accounts/group-admin.js';
import type { Group } from '../../../src/accounts/groups.js';
import type { WebEnv } from '../../env.js';
import { viewerOf } from '../../middleware/session.js';
import { refuse } from '../../refusal.js';

const managed = new WeakMap<Request, Group>();

export function requireGroupAdmin(): MiddlewareHandler<WebEnv> {
  return async function requireGroupAdminMiddleware(c, next) {
    const groupId = Number(c.req.param('groupId'));
    const { role, group } = await findGroupRole(c.get('ctx'), groupId, viewerOf(c).session.userId);
    if (role === 'none' || !group) throw await refuse(c, 404, 'not-this-group');
    if (role !== 'admin') throw await refuse(c, 403, 'not-group-admin');
    managed.set(c.req.raw, group);
    await next();
  };
}

/** The group of a request that passed `requireGroupAdmin`, as read by it. */
export function managedGroupOf(c: Context<WebEnv>): Group {
  const group = managed.get(c.req.raw);
  if (!group) throw new Error('managedGroupOf() used on a route without requireGroupAdmin');
  return group;
}
