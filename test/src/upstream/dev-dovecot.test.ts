import { ImapFlow } from 'imapflow';
import { describe, expect, inject, it } from 'vitest';

/** Logs in to the shared test Dovecot as `user` through a master identity, as the gateway does. */
function connectAs(user: string, master: 'full' | 'restricted') {
  const d = inject('dovecot');
  const auth =
    master === 'full'
      ? { user: d.masterUser, pass: d.masterPassword, authzid: user }
      : { user: d.restrictedMasterUser, pass: d.restrictedMasterPassword, authzid: user };
  return new ImapFlow({ host: d.host, port: d.port, secure: false, auth, logger: false });
}

describe('private Dovecot (dev upstream and test store)', () => {
  it('lets the gateway master user act for any mailbox user', async () => {
    const c = connectAs('dv-alice', 'full');
    await c.connect();
    await c.append('INBOX', 'Subject: one\r\n\r\nbody\r\n');
    const lock = await c.getMailboxLock('INBOX');
    expect(await c.messageDelete('1:*')).toBe(true);
    lock.release();
    expect(((await c.status('INBOX', { messages: true })) || { messages: -1 }).messages).toBe(0);
    await c.logout();
  });

  it('refuses expunge to the restricted master user (the store-side backstop)', async () => {
    const c = connectAs('dv-bob', 'restricted');
    await c.connect();
    await c.append('INBOX', 'Subject: keep me\r\n\r\nbody\r\n');
    const lock = await c.getMailboxLock('INBOX');
    await c.messageDelete('1:*');
    lock.release();
    expect(((await c.status('INBOX', { messages: true })) || { messages: -1 }).messages).toBe(1);
    await c.logout();
  });

  it('refuses a wrong master password', async () => {
    const d = inject('dovecot');
    const c = new ImapFlow({
      host: d.host,
      port: d.port,
      secure: false,
      auth: { user: d.masterUser, pass: 'wrong', authzid: 'dv-carol' },
      logger: false,
    });
    await expect(c.connect()).rejects.toThrow();
  });
});
