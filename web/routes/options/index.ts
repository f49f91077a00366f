/**
 * Options: only for sessions made with the main password and not restricted — enforced here on every
 * request (GET and POST), not only by hiding the sidebar entry. Changes also need a recent step-up.
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
  app.use('*', requireSession(), requireFormToken(), requireOptionsAccess());
  app.get('/', (c) => c.redirect('/options/alt-logins', 303));
  app.route('/confirm', createStepUpRoutes(policy));
  app.route('/alt-logins', createAltLoginRoutes());
  app.route('/personalities', createPersonalityRoutes());
  // No requireStepUp: the form asks for the current password itself.
  app.route('/password', createPasswordRoutes(policy));
  app.route('/security', createSecurityRoutes());
  return app;
}
