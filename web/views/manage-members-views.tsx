/** Manage → Members: the list with its actions, the two ways to add someone, and the shown-once password. */
import type { Group, GroupMember } from '../../src/accounts/groups.js';
import type { Viewer } from '../env.js';
import { ManagePage, StepUpNotice, manageHref } from './manage-views.js';
import { CsrfField, Field, Notice, PostButton, Time } from './ui.js';

export interface MembersPageProps {
  viewer: Viewer;
  group: Group;
  members: GroupMember[];
  /** Domains an operator assigned to the group: administrators give members addresses there. */
  domains?: string[];
  stepUpFresh: boolean;
  ok?: string | null;
  error?: string | null;
  /** What was typed into a form that failed, so it need not be typed again. */
  draft?: { form: 'add' | 'create' | 'address'; username: string; email?: string };
}

export function MembersPage(p: MembersPageProps) {
  const { group } = p;
  const csrf = p.viewer.session.csrfToken;
  const path = manageHref(group, 'members');
  const me = p.viewer.session.userId;
  const adminCount = p.members.filter((m) => m.isAdmin).length;
  const domains = p.domains ?? [];
  return (
    <ManagePage title="Members" viewer={p.viewer} group={group} path={path}>
      <StepUpNotice fresh={p.stepUpFresh} back={path} />
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      <table id="members" class="stack">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Member since</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {p.members.map((m) => {
            const lastAdmin = m.isAdmin && adminCount === 1;
            return (
              <tr data-member={m.username}>
                <td data-label="Member">
                  {m.username} {m.userId === me ? <span class="muted">(you)</span> : null}
                </td>
                <td data-label="Role">{m.isAdmin ? <span class="tag">administrator</span> : 'member'}</td>
                <td data-label="Member since">
                  <Time at={m.addedAt} />
                </td>
                <td class="row-actions">
                  {lastAdmin ? (
                    <span class="muted">The only administrator</span>
                  ) : (
                    <>
                      <PostButton
                        action={`${path}/${m.userId}/admin`}
                        csrf={csrf}
                        fields={{ admin: m.isAdmin ? '0' : '1' }}
                        label={m.isAdmin ? 'Remove administrator' : 'Make administrator'}
                        ariaLabel={m.isAdmin ? `Make ${m.username} an ordinary member` : `Make ${m.username} an administrator`}
                      />
                      <PostButton
                        action={`${path}/${m.userId}/remove`}
                        csrf={csrf}
                        label="Remove"
                        variant="danger"
                        ariaLabel={`Remove ${m.username} from the group`}
                      />
                    </>
                  )}
                  {domains.length ? (
                    <form method="post" action={`${path}/${m.userId}/address`} class="inline-form">
                      <CsrfField token={csrf} />
                      <label>
                        <span class="visually-hidden">Address for {m.username}</span>
                        <input
                          type="email"
                          name="address"
                          required
                          maxlength={254}
                          autocomplete="off"
                          placeholder={`name@${domains[0]}`}
                          value={p.draft?.form === 'address' && p.draft.username === String(m.userId) ? p.draft.email : ''}
                        />
                      </label>
                      <button type="submit" class="button secondary">
                        Give address
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      {domains.length ? (
        <p class="muted" id="group-domains">
          Addresses in {domains.join(', ')} can be given to members here (“Give address”): they are verified at once and the member can send as
          them.
        </p>
      ) : null}

      <div class="two-cards">
        <div class="card">
          <h2>Add an existing user</h2>
          <p class="muted">Someone who already has a Postern account and belongs to no other business or family.</p>
          <form method="post" action={`${path}/add`}>
            <CsrfField token={csrf} />
            <Field id="add-username" label="Username" name="username" value={p.draft?.form === 'add' ? p.draft.username : ''} required maxlength={64} autocomplete="off" />
            <div class="actions">
              <button type="submit" class="button">
                Add member
              </button>
            </div>
          </form>
        </div>
        <div class="card">
          <h2>Create an account for a new member</h2>
          <p class="muted">
            An initial password is generated and shown to you once, to hand to the member. They choose their own password the first time they
            log in on the web.
          </p>
          <form method="post" action={`${path}/create`}>
            <CsrfField token={csrf} />
            <Field id="create-username" label="Username" name="username" value={p.draft?.form === 'create' ? p.draft.username : ''} required maxlength={64} autocomplete="off" />
            <Field
              label="Email address"
              name="email"
              type="email"
              value={p.draft?.form === 'create' ? p.draft.email : ''}
              hint="The address of their first personality, e.g. omar@example.com."
              maxlength={254}
              required
              autocomplete="off"
            />
            <div class="actions">
              <button type="submit" class="button">
                Create account
              </button>
            </div>
          </form>
        </div>
      </div>
    </ManagePage>
  );
}

export function MemberCreatedPage(p: { viewer: Viewer; group: Group; username: string; initialPassword: string }) {
  const path = manageHref(p.group, 'members');
  return (
    <ManagePage title="New member account" viewer={p.viewer} group={p.group} path={path}>
      <div class="card">
        <p>
          The account <strong>{p.username}</strong> was created and added to {p.group.name}. Give the member this initial password in person
          or on paper. <strong>It will not be shown again.</strong> The first time they log in on the web they will be asked to choose their
          own password; from then on this one no longer works.
        </p>
        <p class="secret-box" id="initial-password">
          {p.initialPassword}
        </p>
        <p class="muted">
          Username: <strong>{p.username}</strong>
        </p>
        <div class="actions">
          <a class="button" href={path}>
            Done
          </a>
        </div>
      </div>
    </ManagePage>
  );
}
