/**
 * The compose form (new, reply, reply all, forward, a resumed draft): one multipart form that works
 * without JavaScript. Every value the user typed comes back when something is refused; uploaded files
 * cannot be kept by a browser, so the error says to choose them again.
 */
import type { Draft } from '../mail/compose.js';
import { CsrfField, Field, Notice } from './ui.js';

export function ComposeView(props: { draft: Draft; fromChoices: string[]; csrf: string; error: string | null; errorField?: string | null }) {
  const d = props.draft;
  const err = (name: string) => (props.errorField === name ? props.error : null);
  return (
    <section class="compose">
      <h1>{d.origin?.kind === 'reply' ? 'Reply' : d.origin?.kind === 'forward' ? 'Forward' : 'New message'}</h1>
      {props.error && !props.errorField ? <Notice kind="error">{props.error}</Notice> : null}
      {d.note ? <Notice kind="warn">{d.note}</Notice> : null}
      {props.fromChoices.length ? null : <Notice kind="warn">You have no confirmed address to send from yet.</Notice>}
      <form method="post" action="/mail/compose" enctype="multipart/form-data">
        <CsrfField token={props.csrf} />
        <input type="hidden" name="in_reply_to" value={d.inReplyTo} />
        <input type="hidden" name="references" value={d.references} />
        {d.origin ? (
          <>
            <input type="hidden" name="origin_folder" value={d.origin.folder} />
            <input type="hidden" name="origin_uid" value={String(d.origin.uid)} />
            <input type="hidden" name="origin_kind" value={d.origin.kind} />
            {d.attachOriginal ? <input type="hidden" name="origin_attach" value="1" /> : null}
          </>
        ) : null}
        {d.draftUid ? <input type="hidden" name="draft_uid" value={String(d.draftUid)} /> : null}
        <div class="field">
          <label for="f-from">From</label>
          <select id="f-from" name="from">
            {props.fromChoices.map((a) => (
              <option value={a} selected={a === d.from}>
                {a}
              </option>
            ))}
          </select>
          {err('from') ? <p class="field-error">{err('from')}</p> : null}
        </div>
        <Field label="To" name="to" value={d.to} error={err('to')} hint="Addresses separated by commas." />
        <Field label="Cc" name="cc" value={d.cc} error={err('cc')} />
        <Field label="Bcc" name="bcc" value={d.bcc} error={err('bcc')} />
        <Field label="Subject" name="subject" value={d.subject} maxlength={998} />
        <div class="field">
          <label for="f-body">Message</label>
          <textarea id="f-body" name="body" rows={18}>
            {d.body}
          </textarea>
        </div>
        {d.attachOriginal ? <p class="muted">The original message is attached to this one, whole (as an .eml file).</p> : null}
        <div class="field">
          <label for="f-attachments">Attachments</label>
          <input id="f-attachments" type="file" name="attachment" multiple />
          {err('attachment') ? <p class="field-error">{err('attachment')}</p> : null}
        </div>
        <p class="actions">
          <button type="submit" name="action" value="send">
            Send
          </button>{' '}
          <button type="submit" name="action" value="save" class="secondary">
            Save draft
          </button>
        </p>
      </form>
    </section>
  );
}
