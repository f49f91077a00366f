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
import { isProvenFor } from '../../../src/accounts/address-proofs.js';
import { confirmAddress, findPendingConfirmation, hasPendingConfirmation, sendAddressConfirmation } from '../../../src/accounts/address-confirmations.js';
import { hasRecentStepUp } from '../../../src/auth/web-sessions.js';
import { isPosternError, PosternError } from '../../../src/errors.js';
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

/**
 * One personality's form. The page holds one per personality plus "Add a personality", so field ids carry
 * `idPrefix` (a label must point at its own form's field) and the button may name its personality.
 */
function PersonalityForm(p: {
  csrf: string;
  action: string;
  values: Draft['values'];
  errors: Draft['errors'];
  button: string;
  buttonLabel?: string;
  idPrefix: string;
}) {
  return (
    <form method="post" action={p.action}>
      <CsrfField token={p.csrf} />
      <Field id={`${p.idPrefix}-name`} label="Name" name="name" value={p.values.name} error={p.errors.name} maxlength={100} required />
      <Field
        id={`${p.idPrefix}-email`}
        label="Email address"
        name="email"
        type="email"
        value={p.values.email}
        error={p.errors.email}
        hint="Leave empty if this personality has no address of its own yet."
        maxlength={254}
      />
      <Field
        id={`${p.idPrefix}-mobile`}
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
        <button type="submit" class="button" aria-label={p.buttonLabel}>
          {p.button}
        </button>
      </div>
    </form>
  );
}

/** Whether a personality's address may be used yet (src/accounts/addresses.ts): shown beside its name. */
type AddressStatus = 'none' | 'verified' | 'waiting' | 'unconfirmed';

function AddressState(p: { status: AddressStatus; id: number; address: string; csrf: string }) {
  if (p.status === 'none') return null;
  if (p.status === 'verified') return <span class="tag">verified</span>;
  return (
    <span>
      <span class="tag warn">{p.status === 'waiting' ? 'waiting for confirmation' : 'not confirmed'}</span>{' '}
      <PostButton
        action={`/options/personalities/${p.id}/send-confirmation`}
        csrf={p.csrf}
        label="Send again"
        variant="secondary"
        ariaLabel={`Send the confirmation mail for ${p.address} again`}
      />
    </span>
  );
}

function PersonalitiesPage(p: {
  viewer: Viewer;
  list: Personality[];
  status: Map<number, AddressStatus>;
  draft?: Draft;
  ok?: string | null;
  error?: string | null;
}) {
  const csrf = p.viewer.session.csrfToken;
  // An older default personality may hold the bare login name as its "address": shown as empty, since a
  // browser would refuse to submit it from an email field, and saving stores no address instead.
  const shownEmail = (x: Personality) => (isEmailAddress(x.email) ? x.email : '');
  const valuesFor = (x: Personality) => (p.draft?.target === x.id ? p.draft.values : { name: x.name, email: shownEmail(x), mobile: x.mobile ?? '' });
  const errorsFor = (t: number | 'new') => (p.draft?.target === t ? p.draft.errors : {});
  return (
    <Page title="Personalities" viewer={p.viewer} path="/options/personalities">
      <h1>Personalities</h1>
      <p class="muted">
        The names and addresses you send as. The default one also receives your SMS login codes. A new address can be used once you open
        the confirmation link mailed to it.
      </p>
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
            {x.name} {x.isDefault ? <span class="tag">default</span> : null}{' '}
            <AddressState status={p.status.get(x.id) ?? 'none'} id={x.id} address={x.email} csrf={csrf} />
          </h2>
          <PersonalityForm
            csrf={csrf}
            action={`/options/personalities/${x.id}`}
            values={valuesFor(x)}
            errors={errorsFor(x.id)}
            button="Save"
            buttonLabel={`Save personality “${x.name}”`}
            idPrefix={`p${x.id}`}
          />
          {!x.isDefault ? (
            <div class="actions">
              <PostButton
                action={`/options/personalities/${x.id}/default`}
                csrf={csrf}
                label="Make default"
                ariaLabel={`Make “${x.name}” the default personality`}
              />
              <PostButton
                action={`/options/personalities/${x.id}/delete`}
                csrf={csrf}
                label="Delete"
                variant="danger"
                ariaLabel={`Delete personality “${x.name}”`}
              />
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
          idPrefix="new"
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
    const ctx = c.get('ctx');
    const userId = viewer.session.userId;
    const list = await listPersonalities(ctx, userId);
    const states = new Map<number, AddressStatus>();
    for (const x of list) {
      if (!isEmailAddress(x.email)) states.set(x.id, 'none');
      else if (await isProvenFor(ctx.db, userId, x.email)) states.set(x.id, 'verified');
      else states.set(x.id, (await hasPendingConfirmation(ctx, userId, x.email)) ? 'waiting' : 'unconfirmed');
    }
    return c.html(<PersonalitiesPage viewer={viewer} list={list} status={states} {...extra} />, status);
  }

  /** Mails the link for a new or changed address; trouble sending shows as "not confirmed" with "Send again". */
  async function offerConfirmation(c: Context<WebEnv>, personalityId: number) {
    const ctx = c.get('ctx');
    await sendAddressConfirmation(ctx, { userId: viewerOf(c).session.userId, personalityId }).catch((e: unknown) => {
      if (!isPosternError(e)) throw e;
    });
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
    const known = ['saved', 'added', 'default', 'deleted', 'sent', 'confirmed'];
    const text = {
      saved: 'Saved.',
      added: 'The personality was added.',
      default: 'The default personality was changed.',
      deleted: 'The personality was deleted.',
      sent: 'A confirmation link was sent. Open it while logged in here.',
      confirmed: 'The address is confirmed: you can now send as it.',
    };
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
    return attempt(
      c,
      draft,
      async () => {
        const p = await createPersonality(c.get('ctx'), { userId, ...draft.values, mobile: draft.values.mobile || null, actorUserId: userId });
        if (p.email) await offerConfirmation(c, p.id);
      },
      'added',
    );
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
        const p = await updatePersonality(ctx, { userId, personalityId, name: draft.values.name, email: draft.values.email });
        await setMobile(ctx, { userId, personalityId, mobile: draft.values.mobile || null, actorUserId: userId });
        if (p.email && !(await isProvenFor(ctx.db, userId, p.email)) && !(await hasPendingConfirmation(ctx, userId, p.email))) await offerConfirmation(c, p.id);
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

  app.post('/:id{[0-9]+}/send-confirmation', async (c) => {
    const userId = viewerOf(c).session.userId;
    return attempt(c, null, () => sendAddressConfirmation(c.get('ctx'), { userId, personalityId: Number(c.req.param('id')) }), 'sent');
  });

  // The link from the mail: shows what it would confirm; confirming is a POST (a link preview or a
  // scanner fetching the URL must not confirm anything), in this user's session only.
  app.get('/confirm', async (c) => {
    const viewer = viewerOf(c);
    const token = (c.req.query('token') ?? '').slice(0, 100);
    const address = token ? await findPendingConfirmation(c.get('ctx'), viewer.session.userId, token) : null;
    return c.html(
      <Page title="Confirm your address" viewer={viewer} path="/options/personalities">
        <h1>Confirm your address</h1>
        {address ? (
          <form method="post" action="/options/personalities/confirm">
            <CsrfField token={viewer.session.csrfToken} />
            <input type="hidden" name="token" value={token} />
            <p>
              Use <strong>{address}</strong> as one of your addresses?
            </p>
            <div class="actions">
              <button type="submit" class="button">
                Confirm {address}
              </button>
            </div>
          </form>
        ) : (
          <Notice kind="error">{new PosternError('CONFIRMATION_INVALID').userMessage}</Notice>
        )}
      </Page>,
      address ? 200 : 404,
    );
  });

  app.post('/confirm', async (c) => {
    const token = field(await readForm(c), 'token', 100);
    const userId = viewerOf(c).session.userId;
    return attempt(c, null, () => confirmAddress(c.get('ctx'), { userId, token }), 'confirmed');
  });

  return app;
}
