/**
 * Runs client bytes through the gateway's shipped socket-free step (gateway/imap/client-step.ts), the
 * function ImapConnection itself runs for every reader event, with a stand-in store that accepts every
 * command at once and stays in the state the test chose. Only the actions' effects are played here (reader calls, what is written upstream
 * and to the client); every decision is the production code's.
 */
import type { Command, SessionState } from '../../../gateway/imap/command-ast.js';
import { CommandReader } from '../../../gateway/imap/command-reader.js';
import { type StepAction, type StepContext, clientStep } from '../../../gateway/imap/client-step.js';
import { MAX_BAD_COMMANDS, MAX_REFUSED_COMMANDS } from '../../../gateway/imap/limits.js';
import { refusalLine } from '../../../gateway/imap/refusal.js';
import { serializeCommand } from '../../../gateway/imap/serialize-command.js';

export type Outcome =
  /** A command relayed upstream: its serialization with any streamed bytes inlined. */
  | { type: 'relay'; command: Command; upstream: string }
  /** A line the gateway answers the client with (without CRLF). */
  | { type: 'answer'; line: string }
  /** A command before login, handed to pre-auth.ts. */
  | { type: 'pre-auth'; command: Command }
  | { type: 'idle-done'; valid: boolean }
  /** A streamed APPEND turned out malformed or refused after its prefix went upstream: the store's command is made to fail (or the session cut). */
  | { type: 'abort-upstream' }
  /** The connection was closed with this last line. */
  | { type: 'closed'; line: string };

export interface HarnessOptions {
  state?: SessionState;
  restricted?: boolean;
  /** Chunk sizes to split the input into, cycled; default: one chunk. */
  chunks?: number[];
  /** Upstream's non-synchronizing literal limit for serialization. */
  nonSyncLiteralMax?: number;
  maxMessageSize?: number;
  /** Whether the stand-in store offers MULTIAPPEND (default yes, as Dovecot does). */
  multiAppend?: boolean;
}

/** Splits `input` into chunks whose sizes cycle through `sizes`. */
export function splitInto(input: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < input.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    out.push(input.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

/** Runs client bytes through the reader and the shipped step; the stand-in store says OK to everything. */
export function runGateway(input: string | Buffer, options: HarnessOptions = {}): Outcome[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const reader = new CommandReader({ maxMessageSize: options.maxMessageSize });
  const state = options.state ?? 'selected';
  const context: StepContext = {
    state,
    loggedIn: state !== 'not-authenticated',
    restricted: options.restricted ?? false,
    maxMessageSize: options.maxMessageSize ?? 50 * 1024 * 1024,
    saslTag: null,
    append: null,
    multiAppend: options.multiAppend ?? true,
  };
  const serializeOptions = { nonSyncLiteralMax: options.nonSyncLiteralMax ?? 0 };
  const outcomes: Outcome[] = [];
  /** The APPEND being streamed: the command as it goes on, and each message's bytes. */
  let appending: { command: Command; messages: Buffer[][] } | null = null;
  let closed = false;
  let bads = 0;
  let refusals = 0;

  const relay = (command: Command, messages: Buffer[][]) => {
    let k = 0;
    const upstream = serializeCommand(command, serializeOptions).map((s) => {
      if (s.kind === 'bytes') return s.data.toString('latin1');
      return s.kind === 'stream' ? Buffer.concat(messages[k++] ?? []).toString('latin1') : '';
    }).join('');
    outcomes.push({ type: 'relay', command, upstream });
    if (command.name === 'IDLE') {
      outcomes.push({ type: 'answer', line: '+ idling' });
      reader.enterIdle();
    }
  };
  const refuse = (tag: string | null, refusal: Extract<StepAction, { type: 'refuse' }>['refusal']) => {
    outcomes.push({ type: 'answer', line: refusalLine(tag, refusal) });
    if (refusal.status === 'BAD' && ++bads >= MAX_BAD_COMMANDS) close('* BYE Too many invalid commands');
    else if (refusal.reason && ++refusals >= MAX_REFUSED_COMMANDS) close('* BYE Too many refused commands');
  };
  const close = (line: string) => {
    outcomes.push({ type: 'closed', line });
    closed = true;
  };

  const run = (action: StepAction) => {
    switch (action.type) {
      case 'refuse':
        context.saslTag = null;
        refuse(action.tag, action.refusal);
        return;
      case 'write':
        outcomes.push({ type: 'answer', line: action.line });
        return;
      case 'close':
        close(action.line);
        return;
      case 'collect-literal':
        if (action.sync) outcomes.push({ type: 'answer', line: '+ Ready for literal data' });
        reader.collectLiteral();
        return;
      case 'refuse-literal':
        reader.refuseLiteral();
        return;
      case 'pre-auth':
        outcomes.push({ type: 'pre-auth', command: action.command });
        return;
      case 'sasl-response':
        context.saslTag = null;
        return;
      case 'relay':
        relay(action.command, []);
        return;
      case 'relay-append':
        appending = { command: action.command, messages: [[]] };
        context.append = { planned: action.planned, ended: false };
        if (action.sync) outcomes.push({ type: 'answer', line: '+ Ready for literal data' });
        reader.streamLiteral();
        return;
      case 'append-next':
        appending!.command = action.command;
        appending!.messages.push([]);
        context.append = { planned: action.planned, ended: false };
        if (action.sync) outcomes.push({ type: 'answer', line: '+ Ready for literal data' });
        reader.streamLiteral();
        return;
      case 'append-cancel': {
        const tag = appending!.command.tag;
        if (action.refuseLiteral) reader.refuseLiteral();
        appending = null;
        context.append = null;
        outcomes.push({ type: 'abort-upstream' });
        refuse(tag, action.refusal);
        return;
      }
      case 'idle-done':
        outcomes.push({ type: 'idle-done', valid: action.valid });
        return;
      case 'append-chunk':
        appending!.messages.at(-1)!.push(Buffer.from(action.data));
        return;
      case 'append-ended':
        context.append!.ended = true;
        return;
      case 'append-complete':
        relay(appending!.command, appending!.messages);
        appending = null;
        context.append = null;
        return;
      case 'append-abort':
        outcomes.push({ type: 'abort-upstream' });
        close(action.line);
        return;
    }
  };

  for (const chunk of options.chunks ? splitInto(bytes, options.chunks) : [bytes]) {
    reader.push(chunk);
    for (let event = reader.next(); event && !closed; event = reader.next()) {
      for (const action of clientStep(event, context)) if (!closed) run(action);
    }
    if (closed) break;
  }
  return outcomes;
}

/** The upstream text of every relayed command, in order. */
export function relayed(outcomes: readonly Outcome[]): string[] {
  return outcomes.flatMap((o) => (o.type === 'relay' ? [o.upstream] : []));
}

/** The client answers, in order. */
export function answers(outcomes: readonly Outcome[]): string[] {
  return outcomes.flatMap((o) => (o.type === 'answer' ? [o.line] : []));
}
