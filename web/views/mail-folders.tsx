/** The folder column of every mail page: special folders first, nested folders indented, unread counts. */
import type { Folder } from '../mail/folders.js';
import { CsrfField } from './ui.js';

export function folderHref(path: string, page = 1): string {
  const q = new URLSearchParams({ folder: path });
  if (page > 1) q.set('page', String(page));
  return `/mail?${q.toString()}`;
}

export function FolderList(props: { folders: Folder[]; current: string | null; csrf: string }) {
  return (
    <nav class="folders" aria-label="Folders">
      <p>
        <a class="button" href="/mail/compose">Write a message</a>
      </p>
      <ul>
        {props.folders.map((f) => (
          <li class={`depth-${Math.min(f.depth, 5)}`}>
            {f.selectable ? (
              <a href={folderHref(f.path)} aria-current={f.path === props.current ? 'page' : undefined}>
                <span class="folder-name">{f.name}</span>
                {f.unseen ? (
                  <span class="count" aria-label={`${f.unseen} unread`}>
                    {f.unseen}
                  </span>
                ) : null}
              </a>
            ) : (
              <span class="muted">{f.name}</span>
            )}
          </li>
        ))}
      </ul>
      <details class="new-folder">
        <summary>New folder</summary>
        <form method="post" action="/mail/folders">
          <CsrfField token={props.csrf} />
          <label for="new-folder-name">Name</label>
          <input id="new-folder-name" type="text" name="name" maxlength={200} required />
          <label for="new-folder-parent">Inside</label>
          <select id="new-folder-parent" name="parent">
            <option value="">(top level)</option>
            {props.folders.filter((f) => f.selectable).map((f) => (
              <option value={f.path}>{f.path}</option>
            ))}
          </select>
          <div class="actions">
            <button type="submit" class="button secondary">
              Create folder
            </button>
          </div>
        </form>
      </details>
      <p>
        <a href="/mail/search">Search mail</a>
      </p>
    </nav>
  );
}

/** The mail pages' two columns: folders, then the content. */
export function MailFrame(props: { folders: Folder[]; current: string | null; csrf: string; children?: unknown }) {
  return (
    <div class="mail-frame">
      <FolderList folders={props.folders} current={props.current} csrf={props.csrf} />
      <div class="mail-content">{props.children as never}</div>
    </div>
  );
}
