/**
 * Options: only for sessions made with the main password and not restricted — enforced here on every
 * request (GET and POST), not only by hiding the sidebar entry. Changes also need a recent step-up.
 * Security is the exception: any session may list (restricted: not end) the user's own sessions.
 */
import { Hono } from 'hono';
import type { CookiePolicy } from '../../cookies.js';
import type { WebEnv } from '../../env.js';
import { requireFormToken, requireOptionsAccess, requireSession } from '../../middleware/session.js';
import { createAltLoginRoutes } from './alt-logins.js';
import { createPasswordRoutes } from './password.js';
import { createPersonalityRoutes } from './personalities.js';
import { createSecurityRoutes } from './security.js';
import { createStepUpRoutes } from './step-up.js';

export function createOptionsRoutes(policy: CookiePolicy) {
  const app = new Hono<WebEnv>();
  app.use('*', requireSession(), requireFormToken());
  // Before requireOptionsAccess: every session may see its own live sessions (restricted ones cannot end
  // them; the routes refuse that themselves). Hono stops at the first handler that answers.
  app.route('/security', createSecurityRoutes());
  app.use('*', requireOptionsAccess());
  app.get('/', (c) => c.redirect('/options/alt-logins', 303));
  app.route('/confirm', createStepUpRoutes(policy));
  app.route('/alt-logins', createAltLoginRoutes());
  app.route('/personalities', createPersonalityRoutes());
  // No requireStepUp: the form asks for the current password itself.
  app.route('/password', createPasswordRoutes(policy));
  return app;
}
