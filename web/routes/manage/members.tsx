/**
 * Manage → Members: add an existing user, create an account for a new member (initial password shown
 * once, in the answer to the POST, never stored or reachable by URL), remove a member, appoint or remove
 * an administrator. The domain refuses what would leave the group without an administrator, and refuses
 * any user id that is not a member of this group (NOT_GROUP_MEMBER), so ids from elsewhere do nothing.
 */
import { Hono, type Context } from 'hono';
import { addExistingMember, createMemberAccount, giveMemberAddress } from '../../../src/accounts/group-admin.js';
import { listGroupDomains } from '../../../src/accounts/group-domains.js';
import { listGroupMembers, removeGroupMember, setGroupAdmin } from '../../../src/accounts/groups.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { isPosternError } from '../../../src/errors.js';
import type { WebEnv } from '../../env.js';
import { field, readForm, viewerOf } from '../../middleware/session.js';
import { MemberCreatedPage, MembersPage, type MembersPageProps } from '../../views/manage-members-views.js';
import { manageHref } from '../../views/manage-views.js';
import { managedGroupOf } from './guard.js';

const OK_TEXT: Record<string, string> = {
  added: 'The member was added.',
  removed: 'The member was removed.',
  admin: 'The member is now an administrator.',
  member: 'The member is no longer an administrator.',
  address: 'The address was given to the member: it is verified, and they can send as it now.',
};

export function createMemberRoutes() {
  const app = new Hono<WebEnv>();

  async function render(c: Context<WebEnv>, extra: Pick<MembersPageProps, 'ok' | 'error' | 'draft'> = {}, status: 200 | 409 | 422 = 200) {
    const viewer = viewerOf(c);
    const group = managedGroupOf(c);
    const members = await listGroupMembers(c.get('ctx'), group.id);
    const domains = await listGroupDomains(c.get('ctx'), group.id);
    return c.html(<MembersPage viewer={viewer} group={group} members={members} domains={domains} stepUpFresh={hasRecentStepUp(viewer.session)} {...extra} />, status);
  }

  /** Domain refusals (no such user, already in a group, last administrator …) are shown on the page. */
  async function attempt(c: Context<WebEnv>, draft: MembersPageProps['draft'], fn: () => Promise<Response>): Promise<Response> {
    try {
      return await fn();
    } catch (e) {
      if (isPosternError(e) && e.code !== 'INTERNAL') return render(c, { error: e.userMessage, draft }, e.code === 'LAST_GROUP_ADMIN' ? 409 : 422);
      throw e;
    }
  }

  const done = (c: Context<WebEnv>, ok: keyof typeof OK_TEXT) => c.redirect(`${manageHref(managedGroupOf(c), 'members')}?ok=${ok}`, 303);

  app.get('/', (c) => {
    const ok = c.req.query('ok');
    return render(c, { ok: ok && Object.hasOwn(OK_TEXT, ok) ? OK_TEXT[ok] : null });
  });

  app.post('/add', async (c) => {
    const username = field(await readForm(c), 'username', 200);
    return attempt(c, { form: 'add', username }, async () => {
      await addExistingMember(c.get('ctx'), { groupId: managedGroupOf(c).id, username, actorUserId: viewerOf(c).session.userId });
      return done(c, 'added');
    });
  });

  app.post('/create', async (c) => {
    const form = await readForm(c);
    const username = field(form, 'username', 200);
    const email = field(form, 'email', 300);
    return attempt(c, { form: 'create', username, email }, async () => {
      const group = managedGroupOf(c);
      const { user, initialPassword } = await createMemberAccount(c.get('ctx'), { groupId: group.id, username, email, actorUserId: viewerOf(c).session.userId });
      return c.html(<MemberCreatedPage viewer={viewerOf(c)} group={group} username={user.username} initialPassword={initialPassword} />);
    });
  });

  app.post('/:userId{[0-9]+}/remove', (c) =>
    attempt(c, undefined, async () => {
      const me = viewerOf(c).session.userId;
      const userId = Number(c.req.param('userId'));
      await removeGroupMember(c.get('ctx'), { groupId: managedGroupOf(c).id, userId, actorUserId: me });
      // An administrator who removed themself has nothing left to manage here.
      return userId === me ? c.redirect('/mail', 303) : done(c, 'removed');
    }),
  );

  app.post('/:userId{[0-9]+}/admin', async (c) => {
    const isAdmin = field(await readForm(c), 'admin') === '1';
    return attempt(c, undefined, async () => {
      const me = viewerOf(c).session.userId;
      const userId = Number(c.req.param('userId'));
      await setGroupAdmin(c.get('ctx'), { groupId: managedGroupOf(c).id, userId, isAdmin, actorUserId: me });
      if (userId === me && !isAdmin) return c.redirect('/mail', 303);
      return done(c, isAdmin ? 'admin' : 'member');
    });
  });

  // An address in the group's domain for a member (giveMemberAddress decides who may and which).
  app.post('/:userId{[0-9]+}/address', async (c) => {
    const form = await readForm(c);
    const address = field(form, 'address', 300).trim();
    const userId = Number(c.req.param('userId'));
    return attempt(c, { form: 'address', username: String(userId), email: address }, async () => {
      await giveMemberAddress(c.get('ctx'), { groupId: managedGroupOf(c).id, memberUserId: userId, address, actorUserId: viewerOf(c).session.userId });
      return done(c, 'address');
    });
  });

  return app;
}
