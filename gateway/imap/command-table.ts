/**
 * Every command the gateway knows: the states it is valid in, the shape of its arguments, and
 * whether it is relayed. A table, not a switch (as WildDuck's `imap-core/lib/commands`): state and
 * argument checks happen centrally, before any handler or policy runs. A command missing here is
 * unknown, answered BAD and never forwarded.
 */
import { type Arg, type SessionState, isAstring, isSequenceSet } from './command-ast.js';

/**
 * One argument position. Kinds: astring, atom, seq (number or sequence set), list, nil, string,
 * message (a streamed APPEND literal), any (everything but a message); "a|b" for either.
 * Suffix "?" = optional, "*" = zero or more, "+" = one or more.
 */
export type ArgPatternText = string;

interface ArgPattern {
  kinds: readonly string[];
  min: number;
  max: number;
}

export interface CommandSpec {
  /** Canonical name, upper case; UID forms are "UID FETCH" and so on. */
  name: string;
  states: readonly SessionState[];
  pattern: readonly ArgPattern[];
  /** Most arguments the pattern admits (Infinity for open-ended ones); 0 means none at all. */
  maxArgs: number;
  /**
   * True when, after login, the command is rebuilt and sent upstream. False: the gateway answers
   * it itself (LOGIN, AUTHENTICATE, STARTTLS) or always refuses it (COMPRESS, UNAUTHENTICATE).
   */
  relayed: boolean;
  /** For APPEND/REPLACE: a top-level literal at this argument index or later is the message. */
  messageArg: number | null;
  /** A shape the pattern language cannot say (MULTIAPPEND's repeated groups); null when it fits. */
  check: ((args: readonly Arg[]) => string | null) | null;
}

const ANY: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
const NOT_AUTHENTICATED: readonly SessionState[] = ['not-authenticated'];
const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
const SELECTED: readonly SessionState[] = ['selected'];

interface Definition {
  states: readonly SessionState[];
  args: readonly ArgPatternText[];
  relayed?: boolean;
  messageArg?: number;
  check?: (args: readonly Arg[]) => string | null;
}

/**
 * MULTIAPPEND (RFC 3502 §6.3.11): `APPEND mailbox 1*(SP [flag-list SP] [date-time SP] message)`. Each
 * message may have its own flag list and date; a message always closes its group.
 */
function checkAppendGroups(args: readonly Arg[]): string | null {
  let i = 1;
  while (i < args.length) {
    if (args[i]!.type === 'list') i++;
    if (args[i]?.type === 'string') i++;
    if (args[i]?.type !== 'streamed-literal') return 'APPEND: each message is [(flags)] ["date"] then the message literal';
    i++;
  }
  return null;
}

// Argument shapes follow the ABNF of RFC 9051 §9 and of each extension's RFC; they are coarse on
// purpose (SEARCH keys are "any+"), because the exact grammar is the store's to enforce. What they
// must get right is arity: commands without arguments take none (see docs/imap-security.md: Dovecot
// skips the arguments of NOOP and CHECK without understanding their literals).
const DEFINITIONS: Record<string, Definition> = {
  // RFC 9051 §6.1: any state.
  CAPABILITY: { states: ANY, args: [] },
  NOOP: { states: ANY, args: [] },
  LOGOUT: { states: ANY, args: [] },
  ID: { states: ANY, args: ['list|nil'] }, // RFC 2971 §3.1
  // RFC 9051 §6.2: not authenticated; the gateway runs these itself.
  STARTTLS: { states: NOT_AUTHENTICATED, args: [], relayed: false },
  AUTHENTICATE: { states: NOT_AUTHENTICATED, args: ['atom', 'atom?'], relayed: false },
  LOGIN: { states: NOT_AUTHENTICATED, args: ['astring', 'astring'], relayed: false },
  // RFC 9051 §6.3: authenticated (and selected).
  ENABLE: { states: ['authenticated'], args: ['atom+'] }, // §6.3.1: authenticated state only
  SELECT: { states: AUTHENTICATED, args: ['astring', 'list?'] }, // list: CONDSTORE/QRESYNC params
  EXAMINE: { states: AUTHENTICATED, args: ['astring', 'list?'] },
  CREATE: { states: AUTHENTICATED, args: ['astring', 'list?'] }, // list: RFC 6154 USE
  DELETE: { states: AUTHENTICATED, args: ['astring'] },
  RENAME: { states: AUTHENTICATED, args: ['astring', 'astring', 'list?'] },
  SUBSCRIBE: { states: AUTHENTICATED, args: ['astring'] },
  UNSUBSCRIBE: { states: AUTHENTICATED, args: ['astring'] },
  LIST: { states: AUTHENTICATED, args: ['any', 'any', 'any*'] }, // RFC 5258 selection/return options
  LSUB: { states: AUTHENTICATED, args: ['astring', 'astring'] },
  NAMESPACE: { states: AUTHENTICATED, args: [] },
  STATUS: { states: AUTHENTICATED, args: ['astring', 'list'] },
  // RFC 3502 MULTIAPPEND: the groups after the mailbox are checked by checkAppendGroups.
  APPEND: { states: AUTHENTICATED, args: ['astring', 'list|string|message+'], messageArg: 1, check: checkAppendGroups },
  IDLE: { states: AUTHENTICATED, args: [] }, // RFC 2177
  // RFC 9051 §6.4: selected.
  CHECK: { states: SELECTED, args: [] },
  CLOSE: { states: SELECTED, args: [] },
  UNSELECT: { states: SELECTED, args: [] }, // RFC 3691
  EXPUNGE: { states: SELECTED, args: [] },
  SEARCH: { states: SELECTED, args: ['any+'] },
  FETCH: { states: SELECTED, args: ['seq', 'any', 'list?'] }, // list: RFC 7162 CHANGEDSINCE
  STORE: { states: SELECTED, args: ['seq', 'list?', 'astring', 'any+'] }, // list: UNCHANGEDSINCE
  COPY: { states: SELECTED, args: ['seq', 'astring'] },
  MOVE: { states: SELECTED, args: ['seq', 'astring'] }, // RFC 6851
  'UID FETCH': { states: SELECTED, args: ['seq', 'any', 'list?'] },
  'UID STORE': { states: SELECTED, args: ['seq', 'list?', 'astring', 'any+'] },
  'UID COPY': { states: SELECTED, args: ['seq', 'astring'] },
  'UID MOVE': { states: SELECTED, args: ['seq', 'astring'] },
  'UID SEARCH': { states: SELECTED, args: ['any+'] },
  'UID EXPUNGE': { states: SELECTED, args: ['seq'] }, // RFC 4315 §2.1
  SORT: { states: SELECTED, args: ['any', 'any', 'any+'] }, // RFC 5256
  'UID SORT': { states: SELECTED, args: ['any', 'any', 'any+'] },
  THREAD: { states: SELECTED, args: ['atom', 'astring', 'any+'] },
  'UID THREAD': { states: SELECTED, args: ['atom', 'astring', 'any+'] },
  CANCELUPDATE: { states: SELECTED, args: ['string+'] }, // RFC 5267 §4.2, for CONTEXT=SEARCH
  ESEARCH: { states: AUTHENTICATED, args: ['any+'] }, // RFC 7377 MULTISEARCH
  // RFC 9208 QUOTA, RFC 4314 ACL, RFC 5464 METADATA.
  GETQUOTA: { states: AUTHENTICATED, args: ['astring'] },
  GETQUOTAROOT: { states: AUTHENTICATED, args: ['astring'] },
  SETQUOTA: { states: AUTHENTICATED, args: ['astring', 'list'] },
  GETACL: { states: AUTHENTICATED, args: ['astring'] },
  SETACL: { states: AUTHENTICATED, args: ['astring', 'astring', 'astring'] },
  DELETEACL: { states: AUTHENTICATED, args: ['astring', 'astring'] },
  LISTRIGHTS: { states: AUTHENTICATED, args: ['astring', 'astring'] },
  MYRIGHTS: { states: AUTHENTICATED, args: ['astring'] },
  GETMETADATA: { states: AUTHENTICATED, args: ['list?', 'astring', 'astring|list'] },
  SETMETADATA: { states: AUTHENTICATED, args: ['astring', 'list'] },
  // Known so that policy can name them; the gateway refuses the first two for every session.
  COMPRESS: { states: AUTHENTICATED, args: ['atom'], relayed: false }, // RFC 4978
  UNAUTHENTICATE: { states: AUTHENTICATED, args: [], relayed: false }, // RFC 8437
  REPLACE: { states: SELECTED, args: ['seq', 'astring', 'list?', 'string?', 'message'], messageArg: 2 }, // RFC 8508
  'UID REPLACE': { states: SELECTED, args: ['seq', 'astring', 'list?', 'string?', 'message'], messageArg: 2 },
  // RFC 4467 URLAUTH: not offered (capability-filter.ts says why); known only to be answered BAD.
  RESETKEY: { states: AUTHENTICATED, args: ['any*'], relayed: false },
  GENURLAUTH: { states: AUTHENTICATED, args: ['any', 'any', 'any*'], relayed: false },
  URLFETCH: { states: AUTHENTICATED, args: ['any+'], relayed: false },
  FILTER: { states: AUTHENTICATED, args: ['any+'] }, // Pigeonhole's FILTER=SIEVE
};

function parsePattern(text: ArgPatternText): ArgPattern {
  const last = text.at(-1);
  const quantified = last === '?' || last === '*' || last === '+';
  const kinds = (quantified ? text.slice(0, -1) : text).split('|');
  const min = last === '?' || last === '*' ? 0 : 1;
  const max = last === '*' || last === '+' ? Infinity : 1;
  return { kinds, min, max };
}

function buildTable(): ReadonlyMap<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const [name, def] of Object.entries(DEFINITIONS)) {
    const pattern = def.args.map(parsePattern);
    table.set(name, {
      name,
      states: def.states,
      pattern,
      maxArgs: pattern.reduce((sum, p) => sum + p.max, 0),
      relayed: def.relayed ?? true,
      messageArg: def.messageArg ?? null,
      check: def.check ?? null,
    });
  }
  return table;
}

/** The command table, keyed by canonical name. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = buildTable();

/** Looks a command up by name ("fetch", "UID Fetch"); null when the gateway does not know it. */
export function findCommand(name: string): CommandSpec | null {
  return COMMANDS.get(name.toUpperCase()) ?? null;
}

/** True when RFC 9051 §3 allows the command in `state`. */
export function isAllowedInState(spec: CommandSpec, state: SessionState): boolean {
  return spec.states.includes(state);
}

function matchesKind(kind: string, arg: Arg): boolean {
  switch (kind) {
    case 'any':
      return arg.type !== 'streamed-literal';
    case 'astring':
      return isAstring(arg);
    case 'seq':
      return isSequenceSet(arg);
    case 'message':
      return arg.type === 'streamed-literal';
    default:
      return arg.type === kind;
  }
}

/** Checks arguments against the command's pattern; returns why they do not fit, or null. */
export function checkArguments(spec: CommandSpec, args: readonly Arg[]): string | null {
  if (spec.maxArgs === 0) return args.length === 0 ? null : `${spec.name} takes no arguments`;
  let i = 0;
  for (const p of spec.pattern) {
    let count = 0;
    while (count < p.max && i < args.length && p.kinds.some((k) => matchesKind(k, args[i]!))) {
      i++;
      count++;
    }
    if (count < p.min) return `${spec.name}: argument ${i + 1} should be ${p.kinds.join(' or ')}`;
  }
  if (i !== args.length) return `${spec.name}: too many arguments`;
  return spec.check ? spec.check(args) : null;
}
