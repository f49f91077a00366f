/** The logged-in page with the folder column: every mail screen is drawn inside it. */
import type { Child } from 'hono/jsx';
import type { Viewer } from '../env.js';
import type { Folder } from '../mail/folders.js';
import { Page } from './layout.js';
import { MailFrame } from './mail-folders.js';
import { Notice } from './ui.js';

export function MailPage(props: { title: string; viewer: Viewer; path: string; folders: Folder[]; current: string | null; notice?: string | null; children?: Child }) {
  return (
    <Page title={props.title} viewer={props.viewer} path={props.path}>
      <MailFrame folders={props.folders} current={props.current} csrf={props.viewer.session.csrfToken}>
        {props.notice ? <Notice kind="info">{props.notice}</Notice> : null}
        {props.children}
      </MailFrame>
    </Page>
  );
}

/** Notices a redirect asks for by a short code (never free text from the URL). */
export const NOTICES: Record<string, string> = {
  'folder-gone': 'That folder no longer exists (it was deleted or renamed elsewhere). Here is your Inbox.',
  'folder-created': 'The folder was created.',
  read: 'Marked as read.',
  unread: 'Marked as unread.',
  flag: 'Flagged.',
  unflag: 'Flag removed.',
  moved: 'Moved.',
  copied: 'Copied.',
  archived: 'Archived.',
  trashed: 'Moved to Trash.',
  deleted: 'Deleted for good.',
  emptied: 'Trash emptied.',
  undone: 'Moved back.',
  sent: 'Your message was sent.',
  'sent-no-copy': 'Your message was sent, but its copy could not be saved in Sent.',
  'draft-saved': 'The draft was saved.',
  'none-selected': 'Select one or more messages first.',
};
