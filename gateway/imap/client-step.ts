/**
 * The gateway's decision for one client event, without sockets: the command reader's event and the
 * session's state in, the actions to take out. ImapConnection runs these actions on the real sockets
 * (connection.ts), and the transcript and property tests run the very same function, so a security
 * table tests the code that ships.
 *
 * What is decided here: framing refusals, literal plans (collect, stream, refuse), parse failures,
 * the session gate and the restricted policy (session-policy.ts), whether a command may be relayed,
 * and the APPEND message's end (only the command's own end may follow it). What is not: anything
 * that waits for the store or the database (the relay's budget check, COPY probe, LOGOUT parking).
 */
import type { Command, SessionState } from './command-ast.js';
import { findCommand } from './command-table.js';
import type { CommandReaderEvent, FatalReason } from './command-reader.js';
import { planLiteral } from './literal-plan.js';
import { parseCommand } from './parse-command.js';
import { type Refusal, asRestrictedAnswer } from './refusal.js';
import { decideCommand } from './session-policy.js';
import { isDeepStrictEqual } from 'node:util';

export interface StepContext {
  state: SessionState;
  /** A store session is open: commands after login go to it. */
  loggedIn: boolean;
  restricted: boolean;
  maxMessageSize: number;
  /** Tag of an AUTHENTICATE waiting for the client's SASL line. */
  saslTag: string | null;
  /** The store takes MULTIAPPEND (RFC 3502), so the gateway offers it: further messages after the first. */
  multiAppend?: boolean;
  /** An APPEND message being read: the command as planned, and whether the message bytes have ended. */
  append: { planned: Command; ended: boolean } | null;
}

export type StepAction =
  /** Answer with the refusal (counted: connection.ts refuse()); `command` names it for the audit. */
  | { type: 'refuse'; tag: string | null; refusal: Refusal; command: string | null }
  /** Write one line to the client. */
  | { type: 'write'; line: string }
  /** Write a last line and close the connection. */
  | { type: 'close'; line: string }
  /** Read the announced literal into memory (send `+` first when `sync`). */
  | { type: 'collect-literal'; sync: boolean }
  /** Do not read the announced literal: a {n} one will not come, a {n+} one is read and dropped. */
  | { type: 'refuse-literal' }
  /** A command before login, for pre-auth.ts. */
  | { type: 'pre-auth'; command: Command }
  | { type: 'sasl-response'; tag: string; data: Buffer }
  /** A judged command for the store session (relay.ts). */
  | { type: 'relay'; command: Command }
  /** An APPEND whose message literal follows: `command` goes upstream, `planned` is what its end must parse to. */
  | { type: 'relay-append'; command: Command; planned: Command; sync: boolean }
  | { type: 'idle-done'; valid: boolean }
  | { type: 'append-chunk'; data: Buffer }
  | { type: 'append-ended' }
  /** The APPEND ended as planned: complete it upstream. */
  | { type: 'append-complete' }
  /**
   * MULTIAPPEND (RFC 3502): a further message literal was announced and judged with the whole command so
   * far; `command` goes on upstream from the previous message's end.
   */
  | { type: 'append-next'; command: Command; planned: Command; sync: boolean }
  /**
   * The APPEND cannot complete (a further message refused, or something malformed after a message): the
   * store's command is made to fail so it stores nothing (RFC 3502 §6.3.11: all or none), then `refusal`
   * answers the tag and the connection goes on. `refuseLiteral`: an announced literal is still undecided.
   */
  | { type: 'append-cancel'; refusal: Refusal; refuseLiteral: boolean; command: string | null }
  /** A limit ended the stream mid-APPEND: the store must never complete it. */
  | { type: 'append-abort'; line: string };

const FATAL_TEXT: Record<FatalReason, string> = {
  'line-too-long': '[LIMIT] Command line too long',
  'command-too-long': '[LIMIT] Command too long',
  'literal-too-large': '[TOOBIG] Literal too large',
};

const MALFORMED_APPEND: Refusal = { status: 'BAD', code: null, text: 'Malformed APPEND' };

function bad(tag: string | null, text: string): StepAction {
  return { type: 'refuse', tag, refusal: { status: 'BAD', code: null, text }, command: null };
}

/** What the gateway does with one reader event. */
export function clientStep(event: CommandReaderEvent, context: StepContext): StepAction[] {
  if (context.append) return appendStep(event, context, context.append);
  switch (event.type) {
    case 'fatal':
      return [{ type: 'close', line: `* BYE ${FATAL_TEXT[event.reason]}` }];
    case 'refused':
      // During AUTHENTICATE the refused line is the SASL response: the answer carries its tag.
      return [bad(context.saslTag ?? event.tag, 'Bare CR, bare LF or NUL in command')];
    case 'literal':
      return literalStep(event, context);
    case 'command': {
      const parsed = parseCommand(event.parts);
      if (!parsed.ok) return [{ type: 'refuse', tag: parsed.tag, refusal: parsed.refusal, command: null }];
      if (!context.loggedIn) return [{ type: 'pre-auth', command: parsed.command }];
      return judge(parsed.command, context, (command) => [{ type: 'relay', command }]);
    }
    case 'idle-done':
      return [{ type: 'idle-done', valid: event.valid }];
    case 'sasl-response':
      return context.saslTag === null ? [] : [{ type: 'sasl-response', tag: context.saslTag, data: event.data }];
    default:
      // literal-chunk / literal-end come only from streamed literals, handled in appendStep.
      return [];
  }
}

function literalStep(event: Extract<CommandReaderEvent, { type: 'literal' }>, context: StepContext): StepAction[] {
  const plan = planLiteral(event.parts, event.literal, { state: context.state, maxMessageSize: context.maxMessageSize });
  if (plan.action === 'collect') return [{ type: 'collect-literal', sync: event.literal.sync }];
  if (plan.action === 'stream' && context.loggedIn) {
    const planned = plan.command;
    const actions = judge(planned, context, (command) => [{ type: 'relay-append', command, planned, sync: event.literal.sync }]);
    return actions[0]?.type === 'relay-append' ? actions : [{ type: 'refuse-literal' }, ...actions];
  }
  if (plan.action === 'stream') return [{ type: 'refuse-literal' }, bad(plan.command.tag, 'Log in first')];
  return [{ type: 'refuse-literal' }, { type: 'refuse', tag: plan.tag, refusal: plan.refusal, command: null }];
}

/**
 * The session gate and, for restricted sessions, the restricted policy; then the relayed check. A
 * restricted refusal says so, and keeps its reason for the aggregated audit row.
 */
function judge(command: Command, context: StepContext, relay: (command: Command) => StepAction[]): StepAction[] {
  const verdict = decideCommand(command, { state: context.state, restricted: context.restricted });
  switch (verdict.action) {
    case 'allow':
    case 'rewrite': {
      const sent = verdict.action === 'rewrite' ? verdict.command : command;
      if (findCommand(sent.name)?.relayed) return relay(sent);
      return [bad(command.tag, `${command.name} is not available through this gateway`)];
    }
    case 'respond':
      return [...verdict.untagged.map((line): StepAction => ({ type: 'write', line: `* ${line}` })), { type: 'write', line: `${command.tag} OK ${verdict.text}` }];
    case 'refuse': {
      const { refusal } = verdict;
      const shown = refusal.reason && context.restricted ? asRestrictedAnswer(refusal) : refusal;
      return [{ type: 'refuse', tag: command.tag, refusal: shown, command: command.name }];
    }
  }
}

/**
 * Reader events while an APPEND message streams: chunks, its end, then the command's CRLF or, for
 * MULTIAPPEND, the next message's literal (judged again with the whole command so far).
 */
function appendStep(event: CommandReaderEvent, context: StepContext, append: { planned: Command; ended: boolean }): StepAction[] {
  if (event.type === 'literal-chunk' && !append.ended) return [{ type: 'append-chunk', data: event.data }];
  if (event.type === 'literal-end' && !append.ended) return [{ type: 'append-ended' }];
  if (event.type === 'fatal') return [{ type: 'append-abort', line: `* BYE ${FATAL_TEXT[event.reason]}` }];
  if (event.type === 'command' && append.ended) {
    const parsed = parseCommand(event.parts);
    if (parsed.ok && isDeepStrictEqual(parsed.command, append.planned)) return [{ type: 'append-complete' }];
  }
  if (event.type === 'literal' && append.ended) {
    if (!context.multiAppend) {
      return [{ type: 'append-cancel', refusal: { status: 'BAD', code: null, text: 'MULTIAPPEND is not available through this gateway' }, refuseLiteral: true, command: null }];
    }
    const actions = literalStep(event, { ...context, append: null });
    const first = actions[0];
    if (first?.type === 'relay-append') return [{ type: 'append-next', command: first.command, planned: first.planned, sync: first.sync }];
    const refusal = actions.find((a): a is Extract<StepAction, { type: 'refuse' }> => a.type === 'refuse');
    if (refusal) return [{ type: 'append-cancel', refusal: refusal.refusal, refuseLiteral: true, command: refusal.command }];
    return [{ type: 'append-cancel', refusal: MALFORMED_APPEND, refuseLiteral: true, command: null }];
  }
  // More arguments, a bare LF after the message, a literal that is no message: never completed upstream.
  return [{ type: 'append-cancel', refusal: MALFORMED_APPEND, refuseLiteral: false, command: null }];
}
