/**
 * What the command gate (session-policy.ts) and the restricted-session policy (restricted-policy.ts)
 * decide for one parsed command; client-step.ts turns it into actions.
 */
import type { Command } from './command-ast.js';
import type { Refusal } from './refusal.js';

export type PolicyVerdict =
  | { action: 'allow' }
  /** Relay `command` instead (same tag). */
  | { action: 'rewrite'; command: Command; reason: string }
  /** Answer `tag status [code] text` and relay nothing. */
  | { action: 'refuse'; refusal: Refusal }
  /** Answer locally: each `untagged` line as `* line`, then `tag OK text`. Relay nothing. */
  | { action: 'respond'; untagged: string[]; text: string };
