/** Options → Personalities: name, email address and Mobile number; choose the default. */
import { Hono, type Context } from 'hono';
import {
  createPersonality,
  deletePersonality,
  isEmailAddress,
  listPersonalities,
  normalizeMobile,
  setDefaultPersonality,
  setMobile,
  updatePersonality,
  type Personality,
} from '../../../src/accounts/personalities.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { isPosternError } from '../../../src/errors.js';
import type { Viewer, WebEnv } from '../../env.js';
import { field, readForm, requireStepUp, viewerOf } from '../../middleware/session.js';
import { Page } from '../../views/layout.js';
import { CsrfField, Field, Notice, PostButton } from '../../views/ui.js';

interface Draft {
  /** Which form the values and errors belong to: a personality id, or 'new'. */
  target: number | 'new';
  values: { name: string; email: string; mobile: string };
  errors: Partial<Record<'name' | 'email' | 'mobile', string>>;
}

function PersonalityForm(p: { csrf: string; action: string; values: Draft['values']; errors: Draft['errors']; button: string }) {
  return (
    <form method="post" action={p.action}>
      <CsrfField token={p.csrf} />
      <Field label="Name" name="name" value={p.values.name} error={p.errors.name} maxlength={100} required />
      <Field
        label="Email address"
        name="email"
        type="email"
        value={p.values.email}
        error={p.errors.email}
        hint="Leave empty if this personality has no address of its own yet."
        maxlength={254}
      />
      <Field
        label="Mobile number"
        name="mobile"
        type="tel"
        value={p.values.mobile}
        error={p.errors.mobile}
        autocomplete="tel"
        hint="With the country code, e.g. +1 415 555 0142. SMS login codes go to the default personality’s number."
        maxlength={32}
      />
      <div class="actions">
        <button type="submit" class="button">
          {p.button}
        </button>
      </div>
    </form>
  );
}

function PersonalitiesPage(p: { viewer: Viewer; list: Personality[]; draft?: Draft; ok?: string | null; error?: string | null }) {
  const csrf = p.viewer.session.csrfToken;
  // An older default personality may hold the bare login name as its "address": shown as empty, since a
  // browser would refuse to submit it from an email field, and saving stores no address instead.
  const shownEmail = (x: Personality) => (isEmailAddress(x.email) ? x.email : '');
  const valuesFor = (x: Personality) => (p.draft?.target === x.id ? p.draft.values : { name: x.name, email: shownEmail(x), mobile: x.mobile ?? '' });
  const errorsFor = (t: number | 'new') => (p.draft?.target === t ? p.draft.errors : {});
  return (
    <Page title="Personalities" viewer={p.viewer} path="/options/personalities">
      <h1>Personalities</h1>
      <p class="muted">The names and addresses you send as. The default one also receives your SMS login codes.</p>
      {!hasRecentStepUp(p.viewer.session) ? (
        <Notice kind="info">
          Changes need your main password again.{' '}
          <a href="/options/confirm?next=%2Foptions%2Fpersonalities">Confirm your password now</a>.
        </Notice>
      ) : null}
      {p.ok ? <Notice kind="ok">{p.ok}</Notice> : null}
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      {p.list.map((x) => (
        <div class="card">
          <h2>
            {x.name} {x.isDefault ? <span class="tag">default</span> : null}
          </h2>
          <PersonalityForm csrf={csrf} action={`/options/personalities/${x.id}`} values={valuesFor(x)} errors={errorsFor(x.id)} button="Save" />
          {!x.isDefault ? (
            <div class="actions">
              <PostButton action={`/options/personalities/${x.id}/default`} csrf={csrf} label="Make default" />
              <PostButton action={`/options/personalities/${x.id}/delete`} csrf={csrf} label="Delete" variant="danger" />
            </div>
          ) : null}
        </div>
      ))}
      <div class="card">
        <h2>Add a personality</h2>
        <PersonalityForm
          csrf={csrf}
          action="/options/personalities/new"
          values={p.draft?.target === 'new' ? p.draft.values : { name: '', email: '', mobile: '' }}
          errors={errorsFor('new')}
          button="Add personality"
        />
      </div>
    </Page>
  );
}

const FIELD_OF: Record<string, keyof Draft['errors']> = { MOBILE_INVALID: 'mobile', EMAIL_INVALID: 'email' };

export function createPersonalityRoutes() {
  const app = new Hono<WebEnv>();
  app.use('*', requireStepUp());

  async function render(c: Context<WebEnv>, extra: { draft?: Draft; ok?: string | null; error?: string | null } = {}, status: 200 | 422 = 200) {
    const viewer = viewerOf(c);
    const list = await listPersonalities(c.get('ctx'), viewer.session.userId);
    return c.html(<PersonalitiesPage viewer={viewer} list={list} {...extra} />, status);
  }

  /** Domain refusals go next to the field they concern (MOBILE_INVALID under Mobile number). */
  async function attempt(c: Context<WebEnv>, draft: Draft | null, fn: () => Promise<unknown>, ok: string): Promise<Response> {
    try {
      await fn();
    } catch (e) {
      if (!isPosternError(e) || e.code === 'INTERNAL') throw e;
      const where = FIELD_OF[e.code] ?? (e.code === 'INVALID_INPUT' ? 'name' : undefined);
      if (draft && where) return render(c, { draft: { ...draft, errors: { [where]: e.userMessage } } }, 422);
      return render(c, { error: e.userMessage }, 422);
    }
    return c.redirect(`/options/personalities?ok=${encodeURIComponent(ok)}`, 303);
  }

  app.get('/', (c) => {
    const ok = c.req.query('ok');
    const known = ['saved', 'added', 'default', 'deleted'];
    const text = { saved: 'Saved.', added: 'The personality was added.', default: 'The default personality was changed.', deleted: 'The personality was deleted.' };
    return render(c, { ok: ok && known.includes(ok) ? text[ok as keyof typeof text] : null });
  });

  const draftFrom = (form: Record<string, string | string[]>, target: Draft['target']): Draft => ({
    target,
    values: { name: field(form, 'name', 200), email: field(form, 'email', 300), mobile: field(form, 'mobile', 64) },
    errors: {},
  });

  app.post('/new', async (c) => {
    const draft = draftFrom(await readForm(c), 'new');
    const userId = viewerOf(c).session.userId;
    return attempt(c, draft, () => createPersonality(c.get('ctx'), { userId, ...draft.values, mobile: draft.values.mobile || null, actorUserId: userId }), 'added');
  });

  app.post('/:id{[0-9]+}', async (c) => {
    const personalityId = Number(c.req.param('id'));
    const draft = draftFrom(await readForm(c), personalityId);
    const userId = viewerOf(c).session.userId;
    const ctx = c.get('ctx');
    return attempt(
      c,
      draft,
      async () => {
        // Validate the number before saving anything, so a bad number leaves the personality untouched.
        if (draft.values.mobile.trim()) normalizeMobile(draft.values.mobile);
        await updatePersonality(ctx, { userId, personalityId, name: draft.values.name, email: draft.values.email });
        await setMobile(ctx, { userId, personalityId, mobile: draft.values.mobile || null, actorUserId: userId });
      },
      'saved',
    );
  });

  app.post('/:id{[0-9]+}/default', async (c) => {
    const userId = viewerOf(c).session.userId;
    return attempt(c, null, () => setDefaultPersonality(c.get('ctx'), userId, Number(c.req.param('id'))), 'default');
  });

  app.post('/:id{[0-9]+}/delete', async (c) => {
    const userId = viewerOf(c).session.userId;
    return attempt(c, null, () => deletePersonality(c.get('ctx'), userId, Number(c.req.param('id'))), 'deleted');
  });

  return app;
}
