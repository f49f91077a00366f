/**
 * Direct access to the test Dovecot, bypassing Postern: fill mailboxes, and take snapshots of everything a
 * destructive command could change (messages, flags, folders, ACLs) to prove that nothing changed.
 */
import { ImapFlow } from 'imapflow';
import { openUpstream } from '../../gateway/imap/upstream.js';
import { inject } from 'vitest';

/** An imapflow client logged in to the store as `mailbox` through the full master user. */
export async function storeClient(mailbox: string): Promise<ImapFlow> {
  const d = inject('dovecot');
  const client = new ImapFlow({
    host: d.host,
    port: d.port,
    secure: false,
    auth: { user: d.masterUser, pass: d.masterPassword, authzid: mailbox },
    logger: false,
  });
  await client.connect();
  return client;
}

export function sampleMessage(i: number, body = `Message body ${i}\r\n`): string {
  return `From: sender${i}@example.test\r\nTo: someone@example.test\r\nSubject: Message ${i}\r\nMessage-ID: <m${i}.${Date.now()}@example.test>\r\n\r\n${body}`;
}

/** Appends `count` messages to each folder (created when missing). */
export async function fillMailbox(mailbox: string, folders: Record<string, number>): Promise<void> {
  const c = await storeClient(mailbox);
  try {
    for (const [folder, count] of Object.entries(folders)) {
      if (folder !== 'INBOX') await c.mailboxCreate(folder).catch(() => undefined);
      for (let i = 1; i <= count; i++) await c.append(folder, sampleMessage(i));
    }
  } finally {
    await c.logout();
  }
}

export interface StoreSnapshot {
  folders: string[];
  messages: Record<string, Array<{ uid: number; flags: string[] }>>;
  acl: Record<string, string>;
  /** Subscribed folders (LSUB): an UNSUBSCRIBE hides a folder from the owner's clients. */
  subscribed: string[];
}

/** Everything a destructive command could have changed, in a form `toEqual` can compare. */
export async function snapshotMailbox(mailbox: string): Promise<StoreSnapshot> {
  const c = await storeClient(mailbox);
  try {
    const list = await c.list();
    const folders = list.map((f) => f.path).sort();
    const messages: StoreSnapshot['messages'] = {};
    const acl: StoreSnapshot['acl'] = {};
    for (const folder of folders) {
      const lock = await c.getMailboxLock(folder, { readOnly: true });
      try {
        const rows: Array<{ uid: number; flags: string[] }> = [];
        if ((c.mailbox && c.mailbox.exists) || 0) {
          for await (const m of c.fetch('1:*', { uid: true, flags: true })) {
            // \Recent belongs to the session that saw the message first (RFC 3501 §2.3.2), not to the store.
            rows.push({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort() });
          }
        }
        messages[folder] = rows.sort((a, b) => a.uid - b.uid);
      } finally {
        lock.release();
      }
    }
    const aclText = await rawSession(mailbox, [...folders.map((f) => `GETACL "${f}"`), 'LSUB "" "*"']);
    const subscribed: string[] = [];
    for (const line of aclText.split('\r\n')) {
      const m = /^\* ACL "?([^" ]+)"? (.*)$/.exec(line);
      if (m) acl[m[1]!] = m[2]!;
      const sub = /^\* LSUB \([^)]*\) (?:"[^"]*"|NIL) "?([^"]+)"?$/.exec(line);
      if (sub) subscribed.push(sub[1]!);
    }
    return { folders, messages, acl, subscribed: subscribed.sort() };
  } finally {
    await c.logout();
  }
}

/** Runs raw commands on the store as `mailbox` (full master) and returns everything it answered. */
export async function rawSession(mailbox: string, commands: string[]): Promise<string> {
  const d = inject('dovecot');
  const s = await openUpstream(
    { host: d.host, port: d.port, tls: false },
    { authcid: d.masterUser, password: d.masterPassword, authzid: mailbox },
    '127.0.0.1',
  );
  let text = s.leftover.toString('latin1');
  const lastTag = `R${commands.length}`;
  const done = new Promise<void>((resolve) => {
    const check = () => {
      if (new RegExp(`(^|\\r\\n)${lastTag} (OK|NO|BAD)[^\\r]*\\r\\n$`).test(text)) resolve();
    };
    s.socket.on('data', (d) => {
      text += d.toString('latin1');
      check();
    });
    check();
  });
  s.socket.write(commands.map((c, i) => `R${i + 1} ${c}\r\n`).join(''));
  await done;
  s.socket.end('Z LOGOUT\r\n');
  return text;
}
