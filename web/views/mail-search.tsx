/** The search form (posted, so the terms stay out of the URL and the history) and its result pages. */
import type { Folder } from '../mail/folders.js';
import type { SearchTerms } from '../mail/search.js';
import { CsrfField, Field } from './ui.js';

export function SearchForm(props: { csrf: string; folders: Folder[]; terms: SearchTerms | null; error?: string | null }) {
  const t = props.terms;
  return (
    <form method="post" action="/mail/search" class="card search-form">
      <CsrfField token={props.csrf} />
      {props.error ? <p class="field-error" role="alert">{props.error}</p> : null}
      <label for="f-folder">Where</label>
      <select id="f-folder" name="folder">
        <option value="">All folders</option>
        {props.folders.filter((f) => f.selectable).map((f) => (
          <option value={f.path} selected={t?.folder === f.path}>{f.path === 'INBOX' ? 'Inbox' : f.path}</option>
        ))}
      </select>
      <Field label="From" name="from" value={t?.from} maxlength={200} />
      <Field label="To" name="to" value={t?.to} maxlength={200} />
      <Field label="Subject" name="subject" value={t?.subject} maxlength={200} />
      <Field label="Text in the message" name="body" value={t?.body} maxlength={200} />
      <Field label="Received on or after" name="since" value={t?.since} hint="YYYY-MM-DD" maxlength={10} />
      <Field label="Received before" name="before" value={t?.before} hint="YYYY-MM-DD" maxlength={10} />
      <div class="checks">
        <label><input type="checkbox" name="unread" value="1" checked={t?.unread} /> Unread only</label>
        <label><input type="checkbox" name="flagged" value="1" checked={t?.flagged} /> Flagged only</label>
      </div>
      <div class="actions">
        <button type="submit" class="button">Search</button>
      </div>
    </form>
  );
}
