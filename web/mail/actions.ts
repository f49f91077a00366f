/**
 * What the list's buttons do to the selected messages, by UID in one folder. Moving uses MOVE (RFC 6851),
 * which imapflow falls back to COPY + expunge of those UIDs where the store lacks it. Whether the session
 * may do it at all is decided before, by the shared restricted rule (src/restricted/rules.ts).
 */
import type { ImapFlow } from 'imapflow';
import type { MailAction } from '../../src/restricted/rules.js';
import { ensureSpecialFolder } from './folders.js';
import { inFolder } from './open-folder.js';

export type ListAction = 'read' | 'unread' | 'flag' | 'unflag' | 'archive' | 'move' | 'copy' | 'delete' | 'undo';

export const LIST_ACTIONS: readonly ListAction[] = ['read', 'unread', 'flag', 'unflag', 'archive', 'move', 'copy', 'delete', 'undo'];

const FLAG_CHANGES = {
  read: { change: 'add', flag: '\\Seen' },
  unread: { change: 'remove', flag: '\\Seen' },
  flag: { change: 'add', flag: '\\Flagged' },
  unflag: { change: 'remove', flag: '\\Flagged' },
} as const;

/** The action as the restricted rule sees it. Deleting inside Trash expunges; elsewhere it moves out. */
export function asMailAction(action: ListAction, inTrash: boolean): MailAction {
  if (action in FLAG_CHANGES) {
    const f = FLAG_CHANGES[action as keyof typeof FLAG_CHANGES];
    return { kind: 'change-flags', change: f.change, flags: [f.flag] };
  }
  if (action === 'copy') return { kind: 'copy' };
  if (action === 'delete' && inTrash) return { kind: 'expunge' };
  return { kind: 'move-out' };
}

export function uidSet(uids: number[]): string {
  return uids.join(',');
}

export async function changeFlags(client: ImapFlow, folder: string, uids: number[], action: keyof typeof FLAG_CHANGES): Promise<void> {
  const f = FLAG_CHANGES[action];
  await inFolder(client, folder, async () => {
    if (f.change === 'add') await client.messageFlagsAdd(uidSet(uids), [f.flag], { uid: true });
    else await client.messageFlagsRemove(uidSet(uids), [f.flag], { uid: true });
  });
}

/** Moves (or copies) the messages; answers the UIDs they got in the destination, when the store says (UIDPLUS). */
export async function transfer(client: ImapFlow, folder: string, uids: number[], target: string, mode: 'move' | 'copy'): Promise<number[]> {
  return inFolder(client, folder, async () => {
    const res = mode === 'move' ? await client.messageMove(uidSet(uids), target, { uid: true }) : await client.messageCopy(uidSet(uids), target, { uid: true });
    return res && res.uidMap ? [...res.uidMap.values()] : [];
  });
}

export async function moveToSpecial(client: ImapFlow, folder: string, uids: number[], use: '\\Trash' | '\\Archive'): Promise<{ target: string; newUids: number[] }> {
  const target = await ensureSpecialFolder(client, use);
  return { target, newUids: await transfer(client, folder, uids, target, 'move') };
}

/** Expunges the messages for good (Trash only, after a confirmation; full sessions only). */
export async function expunge(client: ImapFlow, folder: string, uids: number[] | 'all'): Promise<void> {
  await inFolder(client, folder, async (exists) => {
    if (uids === 'all') {
      if (exists) await client.messageDelete('1:*');
    } else {
      await client.messageDelete(uidSet(uids), { uid: true });
    }
  });
}
