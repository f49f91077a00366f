/**
 * One message: headers, previous/next, actions, the body (text with links, or the washed HTML in a
 * sandboxed frame), "Show images" when remote images were held back, attachments, "Show original".
 */
import { raw } from 'hono/html';
import type { OpenedMessage } from '../mail/message-read.js';
import { formatAddress, formatAddresses } from '../mail/message-list.js';
import { ActionBar, type ListActions, messageHref } from './mail-list.js';
import { CsrfField, formatTime } from './ui.js';

export function partHref(folder: string, uid: number, part: string): string {
  return `/mail/message/part?${new URLSearchParams({ folder, uid: String(uid), part }).toString()}`;
}

function frameHref(folder: string, uid: number, images: boolean): string {
  const q = new URLSearchParams({ folder, uid: String(uid) });
  if (images) q.set('images', '1');
  return `/mail/message/html?${q.toString()}`;
}

function composeHref(folder: string, uid: number, mode: 'reply' | 'all' | 'forward' | 'attach'): string {
  return `/mail/compose?${new URLSearchParams({ folder, uid: String(uid), mode }).toString()}`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function MessageView(props: { m: OpenedMessage; textHtml: string | null; blockedImages: number; showImages: boolean; csrf: string; actions: ListActions; inTrash: boolean }) {
  const { m } = props;
  const env = m.message.envelope;
  const date = env?.date && !Number.isNaN(new Date(env.date).getTime()) ? new Date(env.date) : m.message.internalDate ? new Date(m.message.internalDate) : null;
  const files = m.parts.attachments.filter((a) => !a.inline || !m.html);
  return (
    <article class="message">
      <nav class="pager" aria-label="Messages">
        {m.newer ? <a class="button secondary" href={messageHref(m.folder, m.newer)} rel="prev">← Newer</a> : null}
        {m.older ? <a class="button secondary" href={messageHref(m.folder, m.older)} rel="next">Older →</a> : null}
      </nav>
      <h1>{env?.subject || '(no subject)'}</h1>
      <dl class="message-headers">
        <dt>From</dt>
        <dd>{formatAddress(env?.from?.[0]) || '—'}</dd>
        <dt>To</dt>
        <dd>{formatAddresses(env?.to) || '—'}</dd>
        {env?.cc?.length ? (
          <>
            <dt>Cc</dt>
            <dd>{formatAddresses(env.cc)}</dd>
          </>
        ) : null}
        <dt>Date</dt>
        <dd>{date ? formatTime(date) : '—'}</dd>
      </dl>
      <p class="message-reply">
        {m.message.flags?.has('\\Draft') ? (
          <a class="button" href={`/mail/compose?draft=${m.uid}`}>Edit draft</a>
        ) : (
          <>
            <a class="button" href={composeHref(m.folder, m.uid, 'reply')}>Reply</a>{' '}
            <a class="button secondary" href={composeHref(m.folder, m.uid, 'all')}>Reply all</a>{' '}
            <a class="button secondary" href={composeHref(m.folder, m.uid, 'forward')}>Forward</a>{' '}
            <a class="button secondary" href={composeHref(m.folder, m.uid, 'attach')}>Forward as attachment</a>
          </>
        )}
      </p>
      <form method="post" action="/mail/actions">
        <CsrfField token={props.csrf} />
        <input type="hidden" name="folder" value={m.folder} />
        <input type="hidden" name="uid" value={String(m.uid)} />
        <input type="hidden" name="back" value={messageHref(m.folder, m.uid)} />
        <ActionBar actions={props.actions} inTrash={props.inTrash} />
      </form>
      {m.cut ? <p class="notice warn">This message is very long: only its beginning is shown. “Show original” has all of it.</p> : null}
      {m.parts.truncated ? <p class="notice warn">This message has an unusual structure: some of its parts are not shown.</p> : null}
      {m.html !== null ? (
        <>
          {props.blockedImages && !props.showImages ? (
            <p class="notice info">
              Remote images in this message were blocked to protect your privacy.{' '}
              <a href={`${messageHref(m.folder, m.uid)}&images=1`}>Show images</a>
            </p>
          ) : null}
          <iframe
            class="message-html"
            title="Message body"
            src={frameHref(m.folder, m.uid, props.showImages)}
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            referrerpolicy="no-referrer"
          ></iframe>
        </>
      ) : props.textHtml !== null ? (
        <pre class="message-text">{raw(props.textHtml)}</pre>
      ) : (
        <p class="muted">This message has no text to show.</p>
      )}
      {files.length ? (
        <section aria-label="Attachments">
          <h2>Attachments</h2>
          <ul class="attachments">
            {files.map((a) => (
              <li>
                <a href={partHref(m.folder, m.uid, a.part)}>{a.filename}</a> <span class="muted">({a.type}, {formatSize(a.size)})</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <p>
        <a href={`/mail/message/original?${new URLSearchParams({ folder: m.folder, uid: String(m.uid) }).toString()}`}>Show original</a>
      </p>
    </article>
  );
}
