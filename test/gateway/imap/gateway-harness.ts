/**
 * Drives the pure gateway pieces the way the connection layer will: client bytes in (split into
 * chunks as a socket would), then what the gateway would relay upstream and answer the client.
 * Tests read like transcripts without opening a socket.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Command, SessionState } from '../../../gateway/imap/command-ast.js';
import { CommandReader, type CommandPart } from '../../../gateway/imap/command-reader.js';
import { planLiteral } from '../../../gateway/imap/literal-plan.js';
import { parseCommand } from '../../../gateway/imap/parse-command.js';
import type { PolicyVerdict } from '../../../gateway/imap/restricted-policy.js';
import { decideCommand } from '../../../gateway/imap/session-policy.js';
import { serializeCommand } from '../../../gateway/imap/serialize-command.js';

export type Outcome =
  /** A command relayed upstream: its serialization with any streamed bytes inlined. */
  | { type: 'relay'; command: Command; upstream: string }
  /** A line the gateway answers the client with (without CRLF). */
  | { type: 'answer'; line: string }
  | { type: 'idle-done'; valid: boolean }
  /** A streamed APPEND turned out malformed after its prefix went upstream. */
  | { type: 'abort-upstream' }
  | { type: 'fatal'; reason: string };

export interface HarnessOptions {
  state?: SessionState;
  restricted?: boolean;
  /** Chunk sizes to split the input into, cycled; default: one chunk. */
  chunks?: number[];
  /** Upstream's non-synchronizing literal limit for serialization. */
  nonSyncLiteralMax?: number;
  maxMessageSize?: number;
}

function answerFor(tag: string | null, status: string, code: string | null, text: string): string {
  return `${tag ?? '*'} ${status} ${code ? `[${code}] ` : ''}${text}`;
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

/** Runs client bytes through reader, literal planner, parser, policy and serializer. */
export function runGateway(input: string | Buffer, options: HarnessOptions = {}): Outcome[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const context = { state: options.state ?? 'selected', restricted: options.restricted ?? false };
  const serializeOptions = { nonSyncLiteralMax: options.nonSyncLiteralMax ?? 0 };
  const reader = new CommandReader({ maxMessageSize: options.maxMessageSize });
  const outcomes: Outcome[] = [];
  let streaming: { planned: Command; command: Command; chunks: Buffer[] } | null = null;

  const relay = (command: Command, streamed: Buffer[]) => {
    const upstream = serializeCommand(command, serializeOptions).map((s) => {
      if (s.kind === 'bytes') return s.data.toString('latin1');
      return s.kind === 'stream' ? Buffer.concat(streamed).toString('latin1') : '';
    }).join('');
    outcomes.push({ type: 'relay', command, upstream });
    if (command.name === 'IDLE') {
      outcomes.push({ type: 'answer', line: '+ idling' });
      reader.enterIdle();
    }
  };
  const apply = (verdict: PolicyVerdict, command: Command): Command | null => {
    if (verdict.action === 'allow') return command;
    if (verdict.action === 'rewrite') return verdict.command;
    if (verdict.action === 'refuse') outcomes.push({ type: 'answer', line: answerFor(command.tag, verdict.refusal.status, verdict.refusal.code, verdict.refusal.text) });
    else {
      for (const line of verdict.untagged) outcomes.push({ type: 'answer', line: `* ${line}` });
      outcomes.push({ type: 'answer', line: `${command.tag} OK ${verdict.text}` });
    }
    return null;
  };
  const onCommand = (parts: readonly CommandPart[]) => {
    const parsed = parseCommand(parts);
    if (streaming) {
      const { planned, command, chunks } = streaming;
      streaming = null;
      // Only the command's end may follow the message: anything else abandons the upstream APPEND.
      if (!parsed.ok || !isDeepStrictEqual(parsed.command, planned)) {
        outcomes.push({ type: 'abort-upstream' });
        if (!parsed.ok) outcomes.push({ type: 'answer', line: answerFor(parsed.tag, 'BAD', parsed.code, parsed.text) });
        return;
      }
      relay(command, chunks);
      return;
    }
    if (!parsed.ok) {
      outcomes.push({ type: 'answer', line: answerFor(parsed.tag, 'BAD', parsed.code, parsed.text) });
      return;
    }
    const command = apply(decideCommand(parsed.command, context), parsed.command);
    if (command) relay(command, []);
  };

  for (const chunk of options.chunks ? splitInto(bytes, options.chunks) : [bytes]) {
    reader.push(chunk);
    for (let event = reader.next(); event; event = reader.next()) {
      switch (event.type) {
        case 'literal': {
          if (streaming) {
            outcomes.push({ type: 'abort-upstream' });
            streaming = null;
          }
          const plan = planLiteral(event.parts, event.literal, { state: context.state, maxMessageSize: options.maxMessageSize });
          if (plan.action === 'refuse') {
            outcomes.push({ type: 'answer', line: answerFor(plan.tag, plan.status, plan.code, plan.text) });
            reader.refuseLiteral();
            break;
          }
          if (plan.action === 'stream') {
            const command = apply(decideCommand(plan.command, context), plan.command);
            if (!command) {
              reader.refuseLiteral();
              break;
            }
            streaming = { planned: plan.command, command, chunks: [] };
          }
          if (event.literal.sync) outcomes.push({ type: 'answer', line: '+ Ready' });
          if (plan.action === 'stream') reader.streamLiteral();
          else reader.collectLiteral();
          break;
        }
        case 'literal-chunk':
          streaming?.chunks.push(Buffer.from(event.data));
          break;
        case 'literal-end':
          break;
        case 'command':
          onCommand(event.parts);
          break;
        case 'refused':
          outcomes.push({ type: 'answer', line: answerFor(event.tag, 'BAD', null, `Refused: ${event.reason}`) });
          break;
        case 'idle-done':
          outcomes.push({ type: 'idle-done', valid: event.valid });
          break;
        case 'sasl-response':
          outcomes.push({ type: 'answer', line: `sasl ${event.data.toString('latin1')}` });
          break;
        case 'fatal':
          outcomes.push({ type: 'fatal', reason: event.reason });
          break;
      }
    }
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
