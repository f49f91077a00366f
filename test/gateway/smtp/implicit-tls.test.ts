/**
 * Submission over implicit TLS (RFC 8314 §3.3) on its own port, with a throwaway self-signed certificate:
 * nodemailer (secure), swaks (--tlsc) and Python's SMTP_SSL can log in and send, AUTH is offered at once
 * because the connection is already encrypted, and the plain port still hides AUTH until STARTTLS when
 * the connection is not on loopback.
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../src/auth/types.js';
import { startSubmissionListener, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, pythonSend, rawMessage, selfSignedCert, swaks } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
let withoutTls: RunningSubmission;
const pass = 'ida-main-password';
const email = 'ida@example.test';

beforeAll(async () => {
  ctx = await createTestContext();
  const userId = (await createSender(ctx, 'ida', pass, email)).id;
  sink = await startSmtpSink();
  const auth = async (_c: unknown, req: { username: string; secret: string }): Promise<AuthResult> =>
    req.username === 'ida' && req.secret === pass
      ? { ok: true, userId, username: 'ida', upstreamUser: 'ida', loginId: null, method: 'main', restricted: false }
      : { ok: false, reason: 'failed' };
  const common = { host: '127.0.0.1', port: 0, upstream: { host: sink.host, port: sink.port }, closeTimeoutMs: 200, plaintextAuthAllowed: () => false };
  listener = await startSubmissionListener(ctx, { ...common, tls: selfSignedCert(), smtpsPort: 0 }, auth);
  withoutTls = await startSubmissionListener(ctx, { ...common, smtpsPort: 0 }, auth);
});

afterAll(async () => {
  await listener?.close();
  await withoutTls?.close();
  await sink?.close();
  await ctx?.close();
});

/** Connects with TLS from the first byte and returns the greeting and the EHLO reply. */
function ehloOverTls(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    let text = '';
    let sent = false;
    socket.on('data', (d) => {
      text += d.toString();
      if (!sent && /^220 .*\r\n$/m.test(text)) {
        sent = true;
        socket.write('EHLO client.test\r\n');
      } else if (/\r\n250 [^\r\n]*\r\n$/.test(text)) {
        socket.end('QUIT\r\n');
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

describe('implicit TLS submission', () => {
  it('listens on its own port only when a certificate is configured', () => {
    expect(listener.smtpsPort).toBeGreaterThan(0);
    expect(withoutTls.smtpsPort).toBeUndefined();
  });

  it('offers AUTH at once and no STARTTLS on the TLS port; the plain port still hides AUTH', async () => {
    const ehlo = await ehloOverTls(listener.smtpsPort!);
    expect(ehlo).toMatch(/250-AUTH PLAIN LOGIN/);
    expect(ehlo).not.toMatch(/STARTTLS/);
  });

  it('sends with nodemailer over SMTPS', async () => {
    const raw = rawMessage(email, 'carol@elsewhere.test', 'over smtps\r\n');
    await mailClient({ port: listener.smtpsPort!, user: 'ida', pass, secure: true }).sendMail({ envelope: { from: email, to: ['carol@elsewhere.test'] }, raw });
    const m = (await sink.waitForMessages(1)).at(-1)!;
    expect(m.body.toString()).toMatch(/ with ESMTPSA id /);
  });

  it('sends with swaks --tlsc and with Python SMTP_SSL', async () => {
    const before = sink.messages.length;
    const r = await swaks(['--port', String(listener.smtpsPort), '--tlsc', '--auth', 'PLAIN', '--auth-user', 'ida', '--auth-password', pass, '--from', email, '--to', 'carol@elsewhere.test', '--header', `From: <${email}>`]);
    expect(r.output).toMatch(/<~ {2}250 2\.0\.0 Message accepted for delivery/);
    const p = await pythonSend({ port: listener.smtpsPort!, user: 'ida', pass, from: email, to: ['carol@elsewhere.test'], message: rawMessage(email, 'carol@elsewhere.test', 'py\r\n'), implicitTls: true });
    expect(p.output.trim()).toBe('OK {}');
    expect(await sink.waitForMessages(before + 2)).toHaveLength(before + 2);
  });
});
