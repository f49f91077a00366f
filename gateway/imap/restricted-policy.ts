/**
 * The restricted-session rule, in one module: which parsed commands may reach the store in a
 * session that must not destroy mail. An allow-list: a command missing from RESTRICTED_RULES is
 * refused, so a command added to the table later is refused until someone decides otherwise.
 */
import { type Arg, type Command, astringValue } from './command-ast.js';

export type PolicyVerdict =
  | { action: 'allow' }
  /** Relay `command` instead (same tag). */
  | { action: 'rewrite'; command: Command; reason: string }
  /** Answer `tag status [code] text` and relay nothing. */
  | { action: 'refuse'; status: 'NO' | 'BAD'; code: string | null; text: string }
  /** Answer locally: each `untagged` line as `* line`, then `tag OK text`. Relay nothing. */
  | { action: 'respond'; untagged: string[]; text: string };

type Rule = 'allow' | { refuse: string } | ((command: Command) => PolicyVerdict);

const ALLOW: PolicyVerdict = { action: 'allow' };

function noPermission(text: string): PolicyVerdict {
  // NOPERM (RFC 5530 §3): the session lacks the right, not the syntax.
  return { action: 'refuse', status: 'NO', code: 'NOPERM', text };
}

/** System flags a restricted session may set. \Deleted is the one that matters; \Recent cannot be stored. */
const SETTABLE_SYSTEM_FLAGS = new Set(['\\SEEN', '\\ANSWERED', '\\FLAGGED', '\\DRAFT']);

/** STORE item names: FLAGS (replace), +FLAGS (add), -FLAGS (remove), each with .SILENT (RFC 9051 §6.4.6). */
const FLAG_ITEM = /^([+-]?)FLAGS(?:\.SILENT)?$/;

/**
 * STORE and UID STORE: refuse anything that could set \Deleted, in any spelling Dovecot accepts
 * (imap-gateway-notes: +FLAGS or FLAGS, .SILENT, with or without parentheses, any case, the item
 * name quoted or as a literal, an UNCHANGEDSINCE modifier first). The check is positive: only
 * FLAGS items, only atom flags, and when adding or replacing only the four harmless system flags
 * or keywords. Replacing flags may clear \Deleted, and -FLAGS only removes: both leave mail intact.
 */
function checkStore(command: Command): PolicyVerdict {
  const args = command.args;
  let i = 1;
  const modifiers = args[i];
  if (modifiers?.type === 'list') {
    // RFC 7162 §3.1.3: (UNCHANGEDSINCE mod-sequence) is the only STORE modifier we know.
    const [name, value, ...rest] = modifiers.items;
    if (rest.length > 0 || astringValue(name)?.toUpperCase() !== 'UNCHANGEDSINCE' || value?.type !== 'number') {
      return noPermission('Unknown STORE modifier');
    }
    i++;
  }
  const item = FLAG_ITEM.exec(astringValue(args[i])?.toUpperCase() ?? '');
  if (!item) return noPermission('Only flag changes are allowed in this session');
  const flagArgs = args.slice(i + 1);
  const flags: Arg[] = flagArgs.length === 1 && flagArgs[0]!.type === 'list' ? flagArgs[0]!.items : flagArgs;
  for (const flag of flags) {
    // Keywords and system flags are atoms (RFC 9051 §9 `flag`); a string could be read as a flag by
    // a lenient store, so it is refused rather than interpreted.
    if (flag.type !== 'atom') return noPermission('Flags must be atoms');
    if (item[1] === '-' || !flag.value.startsWith('\\')) continue;
    if (!SETTABLE_SYSTEM_FLAGS.has(flag.value.toUpperCase())) {
      return noPermission(`Setting ${flag.value} is not allowed in this session`);
    }
  }
  return ALLOW;
}

/**
 * CLOSE expunges silently (RFC 9051 §6.4.1). Answer it as UNSELECT does (RFC 3691): the mailbox is
 * closed and nothing is expunged.
 */
function closeAsUnselect(command: Command): PolicyVerdict {
  return { action: 'rewrite', command: { tag: command.tag, name: 'UNSELECT', args: [] }, reason: 'CLOSE would expunge' };
}

/** The verdict for each command name in a restricted session. Missing names are refused. */
export const RESTRICTED_RULES: Readonly<Record<string, Rule>> = {
  CAPABILITY: 'allow',
  NOOP: 'allow',
  LOGOUT: 'allow',
  ID: 'allow',
  ENABLE: 'allow',
  SELECT: 'allow',
  EXAMINE: 'allow',
  CREATE: 'allow',
  SUBSCRIBE: 'allow',
  UNSUBSCRIBE: 'allow',
  LIST: 'allow',
  LSUB: 'allow',
  NAMESPACE: 'allow',
  STATUS: 'allow',
  APPEND: 'allow',
  IDLE: 'allow',
  CHECK: 'allow',
  UNSELECT: 'allow',
  SEARCH: 'allow',
  'UID SEARCH': 'allow',
  FETCH: 'allow',
  'UID FETCH': 'allow',
  COPY: 'allow',
  'UID COPY': 'allow',
  SORT: 'allow',
  'UID SORT': 'allow',
  THREAD: 'allow',
  'UID THREAD': 'allow',
  CANCELUPDATE: 'allow',
  ESEARCH: 'allow',
  GETQUOTA: 'allow',
  GETQUOTAROOT: 'allow',
  GETACL: 'allow',
  LISTRIGHTS: 'allow',
  MYRIGHTS: 'allow',
  GETMETADATA: 'allow',
  STORE: checkStore,
  'UID STORE': checkStore,
  CLOSE: closeAsUnselect,
  // Named refusals, for clearer answers and logs; the default would refuse them anyway.
  EXPUNGE: { refuse: 'EXPUNGE removes every message flagged \\Deleted' },
  'UID EXPUNGE': { refuse: 'UID EXPUNGE removes messages' },
  MOVE: { refuse: 'MOVE removes the source messages' },
  'UID MOVE': { refuse: 'MOVE removes the source messages' },
  DELETE: { refuse: 'DELETE removes a mailbox and its messages' },
  RENAME: { refuse: 'RENAME moves a mailbox away' },
  SETACL: { refuse: 'SETACL changes who may delete' },
  DELETEACL: { refuse: 'DELETEACL changes who may delete' },
  SETMETADATA: { refuse: 'SETMETADATA can delete entries or install scripts' },
  SETQUOTA: { refuse: 'SETQUOTA can make mail bounce' },
  REPLACE: { refuse: 'REPLACE expunges the original message' },
  'UID REPLACE': { refuse: 'REPLACE expunges the original message' },
  RESETKEY: { refuse: 'RESETKEY voids URLAUTH URLs' },
  FILTER: { refuse: 'FILTER runs Sieve over stored mail' },
};

/** Decides whether a parsed command may pass in a restricted (mail-preserving) session. */
export function checkRestrictedCommand(command: Command): PolicyVerdict {
  const rule = Object.hasOwn(RESTRICTED_RULES, command.name) ? RESTRICTED_RULES[command.name] : undefined;
  if (rule === undefined) return noPermission(`${command.name} is not allowed in this session`);
  if (rule === 'allow') return ALLOW;
  if (typeof rule === 'function') return rule(command);
  return noPermission(`${rule.refuse}: not allowed in this session`);
}
