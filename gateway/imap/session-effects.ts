/**
 * What a command does to the session beyond its answer, next to the command table: the mailbox
 * state it leaves (RFC 9051 §3), and whether it changes store-session state a later client of a
 * reused store session (session-cache.ts) would inherit.
 */
import { type Arg, type Command, type SessionState, astringValue } from './command-ast.js';

/** The state after `name` completed with `status`, from `state`. */
export function stateAfter(name: string, status: string, state: SessionState): SessionState {
  if (name === 'SELECT' || name === 'EXAMINE') {
    // RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected (BAD changes nothing).
    if (status === 'OK') return 'selected';
    if (status === 'NO') return 'authenticated';
  } else if ((name === 'CLOSE' || name === 'UNSELECT') && status === 'OK') {
    return 'authenticated';
  }
  return state;
}

/**
 * Words that turn on session state the store keeps until logout: CONDSTORE and QRESYNC are enabled
 * implicitly by any MODSEQ fetch item or search key, HIGHESTMODSEQ status item, CHANGEDSINCE /
 * UNCHANGEDSINCE modifier or CONDSTORE / QRESYNC select parameter (RFC 7162 §3.1), and the ENABLE
 * extensions stay on; SAVE keeps a search result (RFC 5182), UPDATE/CONTEXT a live search
 * (RFC 5267). Matched anywhere in the arguments, atoms and strings alike: a false match only costs
 * a reuse.
 */
const STATEFUL_WORDS = new Set(['MODSEQ', 'HIGHESTMODSEQ', 'CHANGEDSINCE', 'UNCHANGEDSINCE', 'CONDSTORE', 'QRESYNC', 'VANISHED', 'SAVE', 'UPDATE', 'CONTEXT']);

/** Commands that never leave anything behind in the store session but the selected mailbox. */
const STATELESS = new Set([
  'CAPABILITY', 'NOOP', 'ID', 'SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB',
  'NAMESPACE', 'STATUS', 'APPEND', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'SEARCH', 'FETCH', 'STORE', 'COPY', 'MOVE',
  'UID FETCH', 'UID STORE', 'UID COPY', 'UID MOVE', 'UID SEARCH', 'UID EXPUNGE', 'SORT', 'UID SORT', 'THREAD', 'UID THREAD',
  'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA', 'GETACL', 'SETACL', 'DELETEACL', 'LISTRIGHTS', 'MYRIGHTS', 'GETMETADATA', 'SETMETADATA',
]);

function mentionsStatefulWord(args: readonly Arg[]): boolean {
  for (const arg of args) {
    if (arg.type === 'list' && mentionsStatefulWord(arg.items)) return true;
    if (arg.type === 'section' && mentionsStatefulWord(arg.fields)) return true;
    const word = astringValue(arg)?.toUpperCase();
    if (word !== undefined && STATEFUL_WORDS.has(word)) return true;
  }
  return false;
}

/**
 * True when, once sent, the store session may differ from a fresh one in more than the selected
 * mailbox: then it must never be handed to another login (session-cache.ts).
 */
export function changesSessionState(command: Command): boolean {
  if (!STATELESS.has(command.name)) return true; // ENABLE and anything rarer
  // SELECT/EXAMINE parameters (CONDSTORE, QRESYNC) and FETCH/STORE modifiers are lists after the set.
  if ((command.name === 'SELECT' || command.name === 'EXAMINE') && command.args.length > 1) return true;
  return mentionsStatefulWord(command.args);
}
