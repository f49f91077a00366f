/**
 * A login notice the outgoing MTA deferred survives a restart of `postern serve`: the first process tries
 * and fails (and logs it), is stopped; the MTA comes back; the next process on the same data directory
 * sends the notice, exactly once. Real processes (PGlite under DATA_DIR), a local smtp-server as the MTA,
 * the demo account's app password over SMTP AUTH as the alternative login.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startPostern, type PosternProcess } from '../helpers/postern-process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-notice-restart-'));
const running: PosternProcess[] = [];
let sink: SmtpSink | undefined;
afterAll(async () => {
  for (const p of running) p.kill();
  await sink?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('postern serve restarted while a login notice waits for the MTA', () => {
  it('the next process sends it, once', { timeout: 180_000 }, async () => {
    sink = await startSmtpSink();
    sink.dataReply = 'defer';
    const d = inject('dovecot');
    const env = {
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      UPSTREAM_SMTP: `${sink.host}:${sink.port}`,
      UPSTREAM_IMAP: `${d.host}:${d.port}`,
      UPSTREAM_MASTER_USER: d.masterUser,
      UPSTREAM_MASTER_PASSWORD: d.masterPassword,
      LOG_LEVEL: 'info',
      LOGIN_NOTICE_RETRY_DELAYS: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
    };
    const first = await startPostern(env, { readyPattern: /app password \(IMAP\/SMTP\): [^\n]+\n/ });
    running.push(first);
    const secret = /app password \(IMAP\/SMTP\): ([^\n]+)\n/.exec(first.output())![1]!.trim();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: first.smtpPort, secure: false, name: 'kiosk.example', auth: { user: 'demo', pass: secret } });
    await transport.verify();
    transport.close();
    await until(() => /"code":"LOGIN_NOTICE_NOT_SENT"/.test(first.output()), 20_000, () => first.output());
    expect(sink.messages).toEqual([]);
    first.terminate();
    expect(await first.exited).toBe(0);
    // The failed tries named no link and no address.
    const noticeLines = first.output().split('\n').filter((l) => l.includes('LOGIN_NOTICE'));
    expect(noticeLines.join('\n')).not.toMatch(/login-notice\?t=|demo@postern\.test/);

    sink.dataReply = 'accept';
    const second = await startPostern(env);
    running.push(second);
    await until(() => sink!.messages.length > 0, 20_000, () => second.output());
    await new Promise((r) => setTimeout(r, 1500));
    expect(sink.messages.map((m) => m.to)).toEqual([['demo@postern.test']]);
    const body = sink.messages[0]!.body.toString('utf8').replace(/=\r?\n/g, '');
    expect(body).toContain('Client: kiosk.example');
    second.terminate();
    expect(await second.exited).toBe(0);
  });
});
