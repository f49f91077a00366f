/**
 * SIGTERM drains the mail fronts of a real `postern serve`: an IDLE client is told `* BYE` with a reason,
 * an APPEND in flight gets its OK and is stored exactly once, an SMTP client between messages gets 421,
 * new connections are refused, and the process exits 0.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RawClient } from '../gateway/imap/live-gateway.js';
import { storeClient } from '../helpers/mailstore.js';
import { startPostern, type PosternProcess } from '../helpers/postern-process.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-drain-'));
let postern: PosternProcess | undefined;
afterAll(() => {
  postern?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('postern serve on SIGTERM', () => {
  it('tells IDLE BYE, finishes the APPEND in flight (stored once), 421s SMTP, refuses new connections, exits 0', { timeout: 180_000 }, async () => {
    const d = inject('dovecot');
    postern = await startPostern({
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      DRAIN_SECONDS: '30',
      UPSTREAM_IMAP: `${d.host}:${d.port}`,
      UPSTREAM_MASTER_USER: d.masterUser,
      UPSTREAM_MASTER_PASSWORD: d.masterPassword,
    }, { readyPattern: /password: \S+/ });
    const password = /password: (\S+)/.exec(postern.output())![1]!;

    const idler = await RawClient.connect(postern.imapPort);
    expect(await idler.login('demo', password)).toMatch(/^L1 OK/);
    expect(await idler.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/);
    idler.send('i1 IDLE\r\n');
    await idler.waitFor(/^\+ /);

    const subject = `drain-${crypto.randomBytes(6).toString('hex')}`;
    const message = Buffer.from(`From: a@example.test\r\nSubject: ${subject}\r\n\r\n${'x'.repeat(20_000)}\r\n`);
    const appender = await RawClient.connect(postern.imapPort);
    expect(await appender.login('demo', password)).toMatch(/^L1 OK/);
    appender.send(`a1 APPEND INBOX {${message.length}}\r\n`);
    await appender.waitFor(/^\+ /);
    appender.send(message.subarray(0, 10_000));

    const smtp = new RawClient(net.connect({ port: postern.smtpPort, host: '127.0.0.1' }));
    await smtp.waitFor(/^220 /);

    postern.terminate();
    // The drain has begun once the IDLE client has its BYE; only then is the rest of the message sent.
    await idler.waitFor(/^\* BYE \[UNAVAILABLE\] Server restarting; reconnect shortly\r\n/, 20_000);
    await idler.waitClosed();
    expect(idler.text).not.toMatch(/^i1 /m);
    await smtp.waitFor(/^421 4\.3\.2 /, 20_000);
    await expect(RawClient.connect(postern.imapPort)).rejects.toThrow(/ECONNREFUSED/);

    appender.send(Buffer.concat([message.subarray(10_000), Buffer.from('\r\n')]));
    expect(await appender.tagged('a1')).toMatch(/^a1 OK/);
    await appender.waitFor(/^\* BYE \[UNAVAILABLE\] Server restarting/);
    await appender.waitClosed();

    expect(await postern.exited).toBe(0);
    const store = await storeClient('demo');
    try {
      await store.mailboxOpen('INBOX');
      const found = await store.search({ subject });
      expect(found).toHaveLength(1);
    } finally {
      await store.logout();
    }
  });
});
