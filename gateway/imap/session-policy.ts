/**
 * The gate every parsed command passes before dispatch, for every session (as smtp-server's
 * `_onCommand()`): state checks, commands that would take the stream out of the gateway's sight,
 * and the ID and ENABLE rewrites. Restricted sessions then go through restricted-policy.ts.
 */
import type { Arg, Command, SessionState } from './command-ast.js';
import { findCommand, isAllowedInState } from './command-table.js';
import { MAX_ID_PAIRS } from './limits.js';
import type { PolicyVerdict } from './policy-verdict.js';
import { checkRestrictedCommand } from './restricted-policy.js';

export interface SessionContext {
  state: SessionState;
  /** A restricted login: nothing that destroys mail may pass. */
  restricted: boolean;
}

/**
 * After login these would hide the stream from the gateway or end the session it enforces:
 * COMPRESS (RFC 4978) makes the stream opaque, STARTTLS after login is not allowed anyway
 * (RFC 9051 §6.2.1), UNAUTHENTICATE (RFC 8437) would let a second LOGIN reach the store unseen.
 */
const NEVER_AFTER_LOGIN: Readonly<Record<string, string>> = {
  COMPRESS: 'Compression is not available through this gateway',
  STARTTLS: 'STARTTLS is only valid before login',
  UNAUTHENTICATE: 'UNAUTHENTICATE is not available through this gateway',
};

/**
 * Extensions a client may ENABLE through us: the ones we advertise that ENABLE applies to
 * (RFC 7162 CONDSTORE/QRESYNC, RFC 9051 IMAP4rev2). UTF8=ACCEPT is not advertised, so not here.
 */
const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'IMAP4REV2']);

/**
 * ID fields of RFC 2971 §3.3. Others are dropped: Dovecot trusts `x-originating-ip` and friends
 * from trusted networks, which the gateway is (docs/imap-security.md).
 */
const ID_FIELDS = new Set(['name', 'version', 'os', 'os-version', 'vendor', 'support-url', 'address', 'date', 'command', 'arguments', 'environment']);

function refuse(status: 'NO' | 'BAD', code: string | null, text: string): PolicyVerdict {
  return { action: 'refuse', refusal: { status, code, text } };
}

function filterEnable(command: Command): PolicyVerdict {
  const kept = command.args.filter((a) => a.type === 'atom' && ENABLEABLE.has(a.value.toUpperCase()));
  if (kept.length === command.args.length) return { action: 'allow' };
  // RFC 5161 §3.1: unknown extensions are ignored and ENABLED lists only what was enabled.
  if (kept.length === 0) return { action: 'respond', untagged: ['ENABLED'], text: 'ENABLE completed' };
  return { action: 'rewrite', command: { ...command, args: kept }, reason: 'ENABLE of extensions we do not offer' };
}

/** The client's ID parameters with only the RFC 2971 fields kept; null when malformed. */
export function filterClientId(params: readonly Arg[]): Arg[] | null {
  if (params.length % 2 !== 0 || params.length > 2 * MAX_ID_PAIRS) return null;
  const kept: Arg[] = [];
  for (let i = 0; i < params.length; i += 2) {
    const key = params[i]!;
    const value = params[i + 1]!;
    if (key.type !== 'string' || (value.type !== 'string' && value.type !== 'nil')) return null;
    if (ID_FIELDS.has(key.value.toString('latin1').toLowerCase())) kept.push(key, value);
  }
  return kept;
}

function filterId(command: Command): PolicyVerdict {
  const arg = command.args[0]!;
  if (arg.type === 'nil') return { action: 'allow' };
  if (arg.type !== 'list') return refuse('BAD', null, 'ID takes a list or NIL');
  const kept = filterClientId(arg.items);
  if (!kept) return refuse('BAD', null, 'Malformed ID parameters');
  if (kept.length === arg.items.length) return { action: 'allow' };
  const args: Arg[] = [kept.length > 0 ? { type: 'list', items: kept } : { type: 'nil' }];
  return { action: 'rewrite', command: { ...command, args }, reason: 'ID fields outside RFC 2971' };
}

/** The checks every session gets, restricted or not. */
export function checkSessionCommand(command: Command, state: SessionState): PolicyVerdict {
  const spec = findCommand(command.name);
  if (!spec) return refuse('BAD', null, 'Unknown command');
  if (state !== 'not-authenticated' && Object.hasOwn(NEVER_AFTER_LOGIN, command.name)) {
    // CANNOT (RFC 5530 §3): this can never succeed here, whatever the client retries.
    return refuse('NO', 'CANNOT', NEVER_AFTER_LOGIN[command.name]!);
  }
  if (!isAllowedInState(spec, state)) return refuse('BAD', null, `${command.name} is not valid in this state`);
  if (command.name === 'ENABLE') return filterEnable(command);
  if (command.name === 'ID') return filterId(command);
  return { action: 'allow' };
}

/**
 * The single decision for a parsed command: the session gate, then, for a restricted session
 * after login, the restricted policy (applied to the rewritten command when there is one).
 */
export function decideCommand(command: Command, context: SessionContext): PolicyVerdict {
  const verdict = checkSessionCommand(command, context.state);
  if (verdict.action === 'refuse' || verdict.action === 'respond') return verdict;
  if (!context.restricted || context.state === 'not-authenticated') return verdict;
  const restricted = checkRestrictedCommand(verdict.action === 'rewrite' ? verdict.command : command);
  return restricted.action === 'allow' ? verdict : restricted;
}

