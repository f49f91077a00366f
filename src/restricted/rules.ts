/**
 * What a restricted session may do to mail, for every front (IMAP gateway, webmail, SMTP).
 *
 * The rule, from which every row below follows: **a hijacker of a restricted session must not be
 * able to make mail disappear from the owner's view.** So a restricted session may *add* (new
 * messages, copies, folders, subscriptions, the flags a reader sets) but never *take away*
 * (expunge, move out, delete or rename a folder, unsubscribe, replace or strip flags and keywords
 * the owner's clients filter on, change who may delete, change settings or logins).
 *
 * Fronts translate their requests into a `MailAction` and ask `restrictedRefusal()`; a refusal is
 * answered in the front's own words (IMAP `NO [NOPERM]`, web 403) and audited under `reason`.
 * Byte budgets for what a restricted session adds live in ./budget.ts.
 */

export type FlagChange = 'add' | 'remove' | 'replace';

export type MailAction =
  | { kind: 'expunge' }
  | { kind: 'move-out' }
  | { kind: 'replace-message' }
  | { kind: 'delete-folder' }
  | { kind: 'rename-folder' }
  | { kind: 'unsubscribe' }
  | { kind: 'change-access' }
  | { kind: 'change-settings' }
  | { kind: 'manage-logins' }
  | { kind: 'end-sessions' }
  /** Run a filter (Sieve) over stored mail: it can discard or move messages. */
  | { kind: 'run-filter' }
  | { kind: 'change-flags'; change: FlagChange; flags: readonly string[] }
  | { kind: 'append'; flags: readonly string[] }
  | { kind: 'copy' }
  | { kind: 'create-folder' }
  | { kind: 'subscribe' };

/**
 * IMAP ACL rights (RFC 4314 §2.1) that take mail away, so a restricted session never has them and is
 * never told it has: t (set \Deleted), e (expunge), x (delete the mailbox), d (RFC 2086's combined
 * delete right, which servers still send) and a (administer: change who may delete).
 */
export const RIGHTS_THAT_TAKE_AWAY = 'texda';

export interface Refusal {
  /** RFC 5530 response code, also used by the web front to pick its status. */
  code: 'NOPERM' | 'OVERQUOTA' | 'LIMIT';
  /** One sentence for the person at the keyboard. */
  text: string;
  /** Stable, coded reason for logs, metrics and the aggregated audit row. */
  reason: string;
}

/**
 * Flags a restricted session may add: what reading and answering mail sets, and keywords (labels).
 * Not \Deleted (the next expunge by any client removes the message) and not \Recent (not storable).
 */
const ADDABLE_SYSTEM_FLAGS = new Set(['\\SEEN', '\\ANSWERED', '\\FLAGGED', '\\DRAFT']);

/**
 * Flags a restricted session may remove: "mark unread" and "unflag". Removing anything else —
 * \Answered, \Draft, a keyword such as $Junk or a label — changes which view of the owner's
 * clients a message appears in, so it is refused. Removing \Deleted would only undelete, but
 * nothing a reader does needs it.
 */
const REMOVABLE_FLAGS = new Set(['\\SEEN', '\\FLAGGED']);

const TAKES_AWAY: Readonly<Record<string, { text: string; reason: string }>> = {
  expunge: { text: 'Deleting mail is disabled in this session.', reason: 'restricted.expunge' },
  'move-out': { text: 'Moving mail out of a folder is disabled in this session; copy it instead.', reason: 'restricted.move' },
  'replace-message': { text: 'Replacing a message is disabled in this session.', reason: 'restricted.replace' },
  'delete-folder': { text: 'Deleting folders is disabled in this session.', reason: 'restricted.delete-folder' },
  'rename-folder': { text: 'Renaming folders is disabled in this session.', reason: 'restricted.rename-folder' },
  unsubscribe: { text: 'Unsubscribing from folders is disabled in this session.', reason: 'restricted.unsubscribe' },
  'change-access': { text: 'Changing folder access rights is disabled in this session.', reason: 'restricted.acl' },
  'change-settings': { text: 'Changing settings is disabled in this session.', reason: 'restricted.settings' },
  'manage-logins': { text: 'Managing logins is disabled in this session.', reason: 'restricted.logins' },
  'end-sessions': { text: 'Ending sessions is disabled in this session.', reason: 'restricted.sessions' },
  'run-filter': { text: 'Running filters over stored mail is disabled in this session.', reason: 'restricted.filter' },
};

function refuse(text: string, reason: string): Refusal {
  return { code: 'NOPERM', text, reason };
}

/** Whether `flag` is a system flag (`\Seen`) rather than a keyword (`$Forwarded`, `Work`). */
function isSystemFlag(flag: string): boolean {
  return flag.startsWith('\\');
}

function checkFlagChange(change: FlagChange, flags: readonly string[]): Refusal | null {
  if (change === 'replace') {
    // Replacing sets every flag not listed to off: it can clear \Seen, \Answered, \Flagged and
    // every keyword of a whole folder at once. Clients use +FLAGS/-FLAGS for what readers do.
    return refuse('Replacing all flags is disabled in this session; add or remove single flags.', 'restricted.flags-replace');
  }
  for (const flag of flags) {
    const upper = flag.toUpperCase();
    if (change === 'add') {
      if (isSystemFlag(flag) && !ADDABLE_SYSTEM_FLAGS.has(upper)) {
        return refuse(`Setting ${flag} is disabled in this session.`, upper === '\\DELETED' ? 'restricted.flag-deleted' : 'restricted.flag-system');
      }
    } else if (!REMOVABLE_FLAGS.has(upper)) {
      return refuse(`Removing ${flag} is disabled in this session.`, 'restricted.flag-remove');
    }
  }
  return null;
}

/** Null when a restricted session may do `action`, else why not. Full sessions never ask. */
export function restrictedRefusal(action: MailAction): Refusal | null {
  switch (action.kind) {
    case 'change-flags':
      return checkFlagChange(action.change, action.flags);
    case 'append':
      // A message planted with \Deleted disappears at the owner's next expunge.
      if (action.flags.some((flag) => flag.toUpperCase() === '\\DELETED')) {
        return refuse('Adding a message marked deleted is disabled in this session.', 'restricted.append-deleted');
      }
      return checkFlagChange('add', action.flags);
    case 'copy':
    case 'create-folder':
    case 'subscribe':
      return null;
    default: {
      const rule = TAKES_AWAY[action.kind]!;
      return refuse(rule.text, rule.reason);
    }
  }
}
