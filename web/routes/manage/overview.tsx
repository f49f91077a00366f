/** Manage → Business/Family (overview) and Business/Family Preferences. */
import { Hono } from 'hono';
import { summariseGroupMembers } from '../../../src/accounts/group-admin.js';
import { setGroupAllowSms } from '../../../src/accounts/groups.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { getCreditBalance } from '../../../src/credits/accounts.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, viewerOf } from '../../middleware/session.js';
import { OverviewPage, PreferencesPage, manageHref } from '../../views/manage-views.js';
import { managedGroupOf } from './guard.js';

export function createOverviewRoutes() {
  const app = new Hono<WebEnv>();

  app.get('/overview', async (c) => {
    const ctx = c.get('ctx');
    const group = managedGroupOf(c);
    const [{ members, admins }, balance] = await Promise.all([
      summariseGroupMembers(ctx, group.id),
      getCreditBalance(ctx.db, { groupId: group.id }),
    ]);
    return c.html(
      <OverviewPage viewer={viewerOf(c)} group={group} members={members} admins={admins} balance={balance} lowBalance={ctx.config.SMS_LOW_BALANCE_WARNING} />,
    );
  });

  app.get('/preferences', (c) => {
    const viewer = viewerOf(c);
    const group = managedGroupOf(c);
    const saved = c.req.query('saved') !== undefined;
    const ok = saved ? (group.allowSms ? 'Saved. SMS two-factor logins are allowed: buy SMS credits so codes can be paid.' : 'Saved. SMS two-factor logins are not paid by the group.') : null;
    return c.html(<PreferencesPage viewer={viewer} group={group} stepUpFresh={hasRecentStepUp(viewer.session)} ok={ok} />);
  });

  app.post('/preferences', async (c) => {
    const group = managedGroupOf(c);
    // An unticked checkbox sends nothing at all: the hidden "present" field tells a real form from a stray post.
    const form = await readForm(c);
    if (field(form, 'present') !== '1') return c.redirect(manageHref(group, 'preferences'), 303);
    const allowSms = field(form, 'allow_sms') === '1';
    // Takes effect at once: sendLoginCode reads allow_sms when it picks the payer of each code.
    if (allowSms !== group.allowSms) await setGroupAllowSms(c.get('ctx'), { groupId: group.id, allowSms, actorUserId: viewerOf(c).session.userId });
    return c.redirect(`${manageHref(group, 'preferences')}?saved=1`, 303);
  });

  return app;
}
