/**
 * A page of messages as one form: a checkbox per message, and the actions for the selected ones as
 * buttons of that form (works without JavaScript). Controls a restricted session may not use are absent.
 */
import type { MessageSummary } from '../mail/message-list.js';
import { CsrfField, formatTime } from './ui.js';

export interface ListActions {
  /** Move to Trash / delete for good: full sessions only. */
  canDelete: boolean;
  /** Move and Archive take a message out of its folder: full sessions only. */
  canMove: boolean;
  /** Where Move and Copy may go (copying takes nothing away: every session may). */
  targets: string[];
}

export function messageHref(folder: string, uid: number): string {
  return `/mail/message?${new URLSearchParams({ folder, uid: String(uid) }).toString()}`;
}

function Marks(props: { m: MessageSummary }) {
  const m = props.m;
  return (
    <span class="marks">
      {!m.seen ? <span class="mark unread" title="Unread">●<span class="visually-hidden">Unread</span></span> : null}
      {m.flagged ? <span class="mark flagged" title="Flagged">★<span class="visually-hidden">Flagged</span></span> : null}
      {m.answered ? <span class="mark answered" title="Answered">↩<span class="visually-hidden">Answered</span></span> : null}
      {m.attachment ? <span class="mark attachment" title="Has attachments">📎<span class="visually-hidden">Has attachments</span></span> : null}
    </span>
  );
}

export function ActionBar(props: { actions: ListActions; inTrash: boolean }) {
  const a = props.actions;
  return (
    <div class="actions mail-actions">
      <button type="submit" name="action" value="read" class="button secondary">Mark read</button>
      <button type="submit" name="action" value="unread" class="button secondary">Mark unread</button>
      <button type="submit" name="action" value="flag" class="button secondary">Flag</button>
      <button type="submit" name="action" value="unflag" class="button secondary">Unflag</button>
      {a.canMove ? <button type="submit" name="action" value="archive" class="button secondary">Archive</button> : null}
      {a.targets.length ? (
        <>
          <label class="inline-label" for="move-target">Folder</label>
          <select id="move-target" name="target">
            {a.targets.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
          {a.canMove ? <button type="submit" name="action" value="move" class="button secondary">Move</button> : null}
          <button type="submit" name="action" value="copy" class="button secondary">Copy</button>
        </>
      ) : null}
      {a.canDelete ? (
        <button type="submit" name="action" value="delete" class="button danger">
          {props.inTrash ? 'Delete for good' : 'Delete'}
        </button>
      ) : null}
    </div>
  );
}

export function MessageTable(props: {
  folder: string;
  messages: MessageSummary[];
  csrf: string;
  /** Null: no controls. */
  actions: ListActions | null;
  recipientColumn: boolean;
  inTrash: boolean;
  /** Extra hidden fields (search results return to their search). */
  back?: string;
  /** Rows from several folders (search in all folders): each checkbox names its folder, and a Folder column shows it. */
  folderOf?: (m: MessageSummary) => string;
}) {
  const several = Boolean(props.folderOf);
  return (
    <form method="post" action="/mail/actions">
      <CsrfField token={props.csrf} />
      {several ? <input type="hidden" name="scope" value="all" /> : <input type="hidden" name="folder" value={props.folder} />}
      {props.back ? <input type="hidden" name="back" value={props.back} /> : null}
      {props.actions ? <ActionBar actions={props.actions} inTrash={props.inTrash} /> : null}
      <table class="messages">
        <thead>
          <tr>
            <th scope="col"><span class="visually-hidden">Select</span></th>
            <th scope="col"><span class="visually-hidden">Marks</span></th>
            <th scope="col">{props.recipientColumn ? 'To' : 'From'}</th>
            <th scope="col">Subject</th>
            {several ? <th scope="col">Folder</th> : null}
            <th scope="col">Date</th>
          </tr>
        </thead>
        <tbody>
          {props.messages.map((m) => {
            const folder = props.folderOf?.(m) ?? props.folder;
            return (
              <tr class={m.seen ? undefined : 'unseen'}>
                <td>
                  <input type="checkbox" name={several ? 'msg' : 'uid'} value={several ? `${m.uid}:${folder}` : String(m.uid)} disabled={!props.actions} aria-label={`Select “${m.subject || '(no subject)'}”`} />
                </td>
                <td><Marks m={m} /></td>
                <td class="who">{m.correspondent || <span class="muted">(nobody)</span>}</td>
                <td class="subject">
                  <a href={messageHref(folder, m.uid)}>{m.subject || '(no subject)'}</a>
                </td>
                {several ? <td class="folder-name">{folder}</td> : null}
                <td class="date">{m.date ? <time datetime={m.date.toISOString()}>{formatTime(m.date)}</time> : <span class="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </form>
  );
}

export function Pager(props: { page: number; pages: number; href: (page: number) => string }) {
  if (props.pages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {props.page > 1 ? <a class="button secondary" href={props.href(props.page - 1)} rel="prev">← Newer</a> : null}
      <span>
        Page {props.page} of {props.pages}
      </span>
      {props.page < props.pages ? <a class="button secondary" href={props.href(props.page + 1)} rel="next">Older →</a> : null}
    </nav>
  );
}
