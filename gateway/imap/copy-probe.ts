/**
 * A restricted session's COPY is charged what it adds (src/restricted/budget.ts), so the gateway must
 * know the size of the messages first. It asks the store itself: `FETCH set (UID RFC822.SIZE)` under
 * the client's tag, reads the answers instead of relaying them, and then sends `UID COPY` of exactly
 * the UIDs it was charged for. Rewriting to UID COPY keeps the COPY's meaning (same messages, same
 * COPYUID answer) and closes the gap in which new mail matching `1:*` could be copied uncharged.
 *
 * One cost: an unsolicited flag update the store folds into a probe answer is not relayed; the
 * client sees the flags at its next FETCH or NOOP.
 */
import type { Command } from './command-ast.js';

export interface CopyProbe {
  /** The client's COPY or UID COPY, as the policy allowed it. */
  copy: Command;
  uids: number[];
  bytes: number;
}

/** The size probe for a COPY / UID COPY: same tag, same set. */
export function copyProbeCommand(copy: Command): Command {
  const items = { type: 'list' as const, items: [{ type: 'atom' as const, value: 'UID' }, { type: 'atom' as const, value: 'RFC822.SIZE' }] };
  return { tag: copy.tag, name: copy.name === 'UID COPY' ? 'UID FETCH' : 'FETCH', args: [copy.args[0]!, items] };
}

const UID = /[( ]UID (\d+)[ )]/i;
const SIZE = /[( ]RFC822\.SIZE (\d+)[ )]/i;

/** Takes one untagged FETCH line; true when it answered the probe (then it is not relayed). */
export function readProbeFetch(probe: CopyProbe, line: Buffer): boolean {
  const text = line.toString('latin1');
  const uid = UID.exec(text);
  const size = SIZE.exec(text);
  if (!uid || !size) return false;
  probe.uids.push(Number(uid[1]));
  probe.bytes += Number(size[1]);
  return true;
}

/** Sorted UIDs as a compact sequence set: `1:4,7,9:10`. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}
