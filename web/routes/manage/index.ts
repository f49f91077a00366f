/**
 * Manage: a Business/Family's administration, for its administrators only. Every URL carries the group
 * id (/manage/7/members) and `requireGroupAdmin` checks, on every request, that the viewer administers
 * that group. Like Options, Manage is closed to restricted and alternate-login sessions (403), forms need
 * the per-session CSRF token, and changes need the main password re-entered in the last 5 minutes.
 */
import { Hono } from 'hono';
import type { WebEnv } from '../../env.js';
import { requireFormToken, requireOptionsAccess, requireSession, requireStepUp, viewerOf } from '../../middleware/session.js';
import { refuse } from '../../refusal.js';
import { createCreditRoutes } from './credits.js';
import { requireGroupAdmin } from './guard.js';
import { createHistoryRoutes } from './history.js';
import { createMemberRoutes } from './members.js';
import { createOverviewRoutes } from './overview.js';

export function createManageRoutes() {
  const app = new Hono<WebEnv>();
  app.use('*', requireSession(), requireFormToken(), requireOptionsAccess());

  // The sidebar's way in: the viewer's own group.
  app.get('/', async (c) => {
    const group = viewerOf(c).group;
    if (!group) throw await refuse(c, 404, 'not-this-group');
    if (!group.isAdmin) throw await refuse(c, 403, 'not-group-admin');
    return c.redirect(`/manage/${group.id}/overview`, 303);
  });

  const group = new Hono<WebEnv>();
  group.use('*', requireGroupAdmin(), requireStepUp());
  group.get('/', (c) => c.redirect(`/manage/${c.req.param('groupId')}/overview`, 303));
  group.route('/', createOverviewRoutes());
  group.route('/members', createMemberRoutes());
  group.route('/', createCreditRoutes());
  group.route('/history', createHistoryRoutes());
  app.route('/:groupId{[0-9]+}', group);
  return app;
}
