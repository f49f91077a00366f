/**
 * Decides what to do with a literal the client has announced, from the text before it: collect it
 * (small arguments), stream it (an APPEND or REPLACE message), or refuse it. Refusing early is what
 * stops `a1 NOOP {12+}` from smuggling a command: NOOP takes no arguments, so the literal is
 * refused and its bytes dropped by the reader.
 */
import type { Command, SessionState } from './command-ast.js';
import type { CommandPart, LiteralAnnouncement } from './command-reader.js';
import { isAllowedInState } from './command-table.js';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  LITERAL_MINUS_MAX,
  MAX_COMMAND_BYTES,
  MAX_LITERALS_PER_COMMAND,
  MAX_LITERAL_BYTES,
  PRE_AUTH_MAX_COMMAND_BYTES,
  PRE_AUTH_MAX_LITERAL_BYTES,
} from './limits.js';
import { inspectLiteralContext, parseCommand } from './parse-command.js';
import type { Refusal } from './refusal.js';

export interface LiteralPlanOptions {
  state: SessionState;
  /** Largest APPEND message, from configuration. */
  maxMessageSize?: number;
}

export type LiteralPlan =
  /** Call reader.collectLiteral(); for `{n}` send `+` first. */
  | { action: 'collect' }
  /**
   * Call reader.streamLiteral() once upstream is ready. `command` is the whole command with the
   * message as a streamed-literal placeholder: run the session policy on it and relay it before
   * the bytes. If anything but the command's end follows the literal, the upstream command must
   * be abandoned (drop the upstream connection before its literal completes).
   */
  | { action: 'stream'; command: Command }
  /**
   * Call reader.refuseLiteral() and answer the refusal (`* BAD` without a tag). For `{n}` this
   * replaces the `+` (RFC 9051 §2.2.1); for `{n+}` the bytes are already coming.
   */
  | { action: 'refuse'; tag: string | null; refusal: Refusal };

function refuse(tag: string | null, status: 'NO' | 'BAD', code: string | null, text: string): LiteralPlan {
  return { action: 'refuse', tag, refusal: { status, code, text } };
}

/** Plans one announced literal. `parts` are the command's parts before it, as the reader gave them. */
export function planLiteral(
  parts: readonly CommandPart[],
  literal: LiteralAnnouncement,
  options: LiteralPlanOptions,
): LiteralPlan {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const context = inspectLiteralContext(parts);
  if (!context.ok) return { action: 'refuse', tag: context.tag, refusal: context.refusal };
  const { tag, spec } = context;
  if (!isAllowedInState(spec, options.state)) return refuse(tag, 'BAD', null, `${spec.name} is not valid in this state`);
  if (spec.maxArgs === 0) return refuse(tag, 'BAD', null, `${spec.name} takes no arguments`);
  if (literal.index >= MAX_LITERALS_PER_COMMAND) return refuse(tag, 'BAD', 'LIMIT', 'Too many literals');
  // Before login LITERAL- (RFC 7888 §5): a larger {n+} is answered with a tagged BAD [TOOBIG]. After
  // login LITERAL+: the limits below apply to {n+} as to {n}, and a refused {n+} is read and dropped.
  if (!literal.sync && literal.size > LITERAL_MINUS_MAX && options.state === 'not-authenticated') {
    return refuse(tag, 'BAD', 'TOOBIG', 'Non-synchronizing literal too large');
  }

  const isMessage = spec.messageArg !== null && context.depth === 0 && context.argIndex >= spec.messageArg;
  if (isMessage) {
    // RFC 7889: an APPEND over the limit gets NO [TOOBIG].
    if (literal.size > maxMessageSize) return refuse(tag, literal.sync ? 'NO' : 'BAD', 'TOOBIG', 'Message too large');
    const whole = parseCommand([...parts, { kind: 'streamed', size: literal.size, binary: literal.binary }]);
    if (!whole.ok) return { action: 'refuse', tag, refusal: whole.refusal };
    return { action: 'stream', command: whole.command };
  }
  // literal8 carries a message body (RFC 3516): nowhere else is binary allowed.
  if (literal.binary) return refuse(tag, 'BAD', null, 'literal8 is only allowed for an APPEND message');
  const preAuth = options.state === 'not-authenticated';
  const maxLiteral = preAuth ? PRE_AUTH_MAX_LITERAL_BYTES : MAX_LITERAL_BYTES;
  const maxCommand = preAuth ? PRE_AUTH_MAX_COMMAND_BYTES : MAX_COMMAND_BYTES;
  if (literal.size > maxLiteral || literal.commandBytes + literal.size > maxCommand) {
    return refuse(tag, literal.sync ? 'NO' : 'BAD', 'TOOBIG', 'Literal too large');
  }
  return { action: 'collect' };
}
