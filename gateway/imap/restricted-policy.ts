/**
 * The restricted-session policy of the IMAP gateway: each parsed command is translated into the
 * protocol-neutral `MailAction` of src/restricted/rules.ts and judged there, so the webmail and the
 * gateway follow one rule ("add, never take away"). What stays here is IMAP's own business: reading
 * the command strictly (flags as atoms only, the one STORE modifier we know, any spelling Dovecot
 * accepts: docs/imap-security.md), and the allow-list of commands that take nothing away.
 *
 * An allow-list: a command missing from RESTRICTED_RULES is refused, so a command added to the
 * table later is refused until someone decides otherwise.
 */
import { type MailAction, restrictedRefusal } from '../../src/restricted/rules.js';
import { type Arg, type Command, astringValue } from './command-ast.js';
import type { PolicyVerdict } from './policy-verdict.js';

/** A command's meaning for the rule, or a verdict when the gateway cannot read it strictly. */
type Rule = 'allow' | MailAction | ((command: Command) => MailAction | PolicyVerdict);

const ALLOW: PolicyVerdict = { action: 'allow' };

function noPermission(text: string, reason: string): PolicyVerdict {
  // NOPERM (RFC 5530 §3): the session lacks the right, not the syntax.
  return { action: 'refuse', refusal: { status: 'NO', code: 'NOPERM', text, reason } };
}

/** STORE item names: FLAGS (replace), +FLAGS (add), -FLAGS (remove), each with .SILENT (RFC 9051 §6.4.6). */
const FLAG_ITEM = /^([+-]?)FLAGS(?:\.SILENT)?$/;

/**
 * Flags as the rule sees them, or null when one is not an atom: keywords and system flags are atoms
 * (RFC 9051 §9 `flag`); a string could be read as a flag by a lenient store, so it is refused rather
 * than interpreted.
 */
function atomFlags(flags: readonly Arg[]): string[] | null {
  const values: string[] = [];
  for (const flag of flags) {
    if (flag.type !== 'atom') return null;
    values.push(flag.value);
  }
  return values;
}

/**
 * STORE and UID STORE, in any spelling Dovecot accepts (docs/imap-security.md: +FLAGS or FLAGS,
 * .SILENT, with or without parentheses, any case, the item name quoted or as a literal, an
 * UNCHANGEDSINCE modifier first), become a flag change for the rule. Anything else is refused.
 */
function storeAction(command: Command): MailAction | PolicyVerdict {
  const args = command.args;
  let i = 1;
  const modifiers = args[i];
  if (modifiers?.type === 'list') {
    // RFC 7162 §3.1.3: (UNCHANGEDSINCE mod-sequence) is the only STORE modifier we know.
    const [name, value, ...rest] = modifiers.items;
    if (rest.length > 0 || astringValue(name)?.toUpperCase() !== 'UNCHANGEDSINCE' || value?.type !== 'number') {
      return noPermission('Unknown STORE modifier', 'restricted.store-modifier');
    }
    i++;
  }
  const item = FLAG_ITEM.exec(astringValue(args[i])?.toUpperCase() ?? '');
  if (!item) return noPermission('Only flag changes are allowed in this session', 'restricted.store-item');
  const flagArgs = args.slice(i + 1);
  const flags = atomFlags(flagArgs.length === 1 && flagArgs[0]!.type === 'list' ? flagArgs[0]!.items : flagArgs);
  if (!flags) return noPermission('Flags must be atoms', 'restricted.flag-syntax');
  const change = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'replace';
  return { kind: 'change-flags', change, flags };
}

/**
 * APPEND mailbox [(flags)] [date] message, repeated for MULTIAPPEND (RFC 3502): the flags are what the
 * rule judges. Every message's flag list is gathered, so one message planted with \Deleted refuses the
 * whole command (the rule judges flag by flag, so judging them together is judging each message). The
 * command is judged again each time a further message is announced (client-step.ts).
 */
function appendAction(command: Command): MailAction | PolicyVerdict {
  const all: string[] = [];
  for (const arg of command.args.slice(1)) {
    if (arg.type !== 'list') continue;
    const flags = atomFlags(arg.items);
    if (!flags) return noPermission('Flags must be atoms', 'restricted.flag-syntax');
    all.push(...flags);
  }
  return { kind: 'append', flags: all };
}

/**
 * CLOSE expunges silently (RFC 9051 §6.4.1). Answer it as UNSELECT does (RFC 3691): the mailbox is
 * closed and nothing is expunged.
 */
function closeAsUnselect(command: Command): PolicyVerdict {
  return { action: 'rewrite', command: { tag: command.tag, name: 'UNSELECT', args: [] }, reason: 'CLOSE would expunge' };
}

/** What each command name means in a restricted session. Missing names are refused. */
export const RESTRICTED_RULES: Readonly<Record<string, Rule>> = {
  CAPABILITY: 'allow',
  NOOP: 'allow',
  LOGOUT: 'allow',
  ID: 'allow',
  ENABLE: 'allow',
  SELECT: 'allow',
  EXAMINE: 'allow',
  LIST: 'allow',
  LSUB: 'allow',
  NAMESPACE: 'allow',
  STATUS: 'allow',
  IDLE: 'allow',
  CHECK: 'allow',
  UNSELECT: 'allow',
  SEARCH: 'allow',
  'UID SEARCH': 'allow',
  FETCH: 'allow',
  'UID FETCH': 'allow',
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
  CLOSE: closeAsUnselect,
  // Judged by src/restricted/rules.ts.
  CREATE: { kind: 'create-folder' },
  SUBSCRIBE: { kind: 'subscribe' },
  UNSUBSCRIBE: { kind: 'unsubscribe' },
  APPEND: appendAction,
  COPY: { kind: 'copy' },
  'UID COPY': { kind: 'copy' },
  STORE: storeAction,
  'UID STORE': storeAction,
  EXPUNGE: { kind: 'expunge' },
  'UID EXPUNGE': { kind: 'expunge' },
  MOVE: { kind: 'move-out' },
  'UID MOVE': { kind: 'move-out' },
  DELETE: { kind: 'delete-folder' },
  RENAME: { kind: 'rename-folder' },
  SETACL: { kind: 'change-access' },
  DELETEACL: { kind: 'change-access' },
  // RESETKEY voids the URLAUTH URLs others were given: access, not mail.
  RESETKEY: { kind: 'change-access' },
  // NIL deletes an entry; with imapsieve an entry can install a script that discards mail.
  SETMETADATA: { kind: 'change-settings' },
  // A lower quota makes new mail bounce.
  SETQUOTA: { kind: 'change-settings' },
  REPLACE: { kind: 'replace-message' },
  'UID REPLACE': { kind: 'replace-message' },
  FILTER: { kind: 'run-filter' },
};

/** The rule's answer as the gateway's verdict: IMAP words for the refusal, the rule's reason for the audit. */
function judge(command: Command, action: MailAction): PolicyVerdict {
  const refusal = restrictedRefusal(action);
  if (!refusal) return ALLOW;
  // Command refusals name the command ("EXPUNGE: Deleting mail is disabled…"); flag refusals name the flag.
  const named = action.kind === 'change-flags' || action.kind === 'append' ? refusal.text : `${command.name}: ${refusal.text}`;
  return { action: 'refuse', refusal: { status: 'NO', code: refusal.code, text: named, reason: refusal.reason } };
}

/** Decides whether a parsed command may pass in a restricted (mail-preserving) session. */
export function checkRestrictedCommand(command: Command): PolicyVerdict {
  const rule = Object.hasOwn(RESTRICTED_RULES, command.name) ? RESTRICTED_RULES[command.name] : undefined;
  if (rule === undefined) return noPermission(`${command.name} is not allowed in this session`, 'restricted.command');
  if (rule === 'allow') return ALLOW;
  const meaning = typeof rule === 'function' ? rule(command) : rule;
  return 'action' in meaning ? meaning : judge(command, meaning);
}
