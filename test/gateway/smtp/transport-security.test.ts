/**
 * Passwords travel in the clear only over loopback: on a network address AUTH is neither offered nor
 * accepted before STARTTLS, and without a certificate it is not possible at all there.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../src/auth/types.js';
import { startSubmissionListener, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { isLoopbackAddress } from '../../../gateway/loopback.js';
import { disabledCommandsFor } from '../../../gateway/smtp/transport-security.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, rawMessage, selfSignedCert } from './fixtures.js';

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['10.0.0.1', false],
    ['::ffff:192.0.2.2', false],
    ['fd00::2', false],
    ['::', false],
    ['128.0.0.1', false],
    ['localhost', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe('disabledCommandsFor', () => {
  it.each([
    [{ tlsAvailable: false, secure: false, plaintextAllowed: true }, ['STARTTLS']],
    [{ tlsAvailable: false, secure: false, plaintextAllowed: false }, ['STARTTLS', 'AUTH']],
    [{ tlsAvailable: true, secure: false, plaintextAllowed: false }, ['AUTH']],
    [{ tlsAvailable: true, secure: true, plaintextAllowed: false }, []],
    [{ tlsAvailable: true, secure: false, plaintextAllowed: true }, []],
  ])('%o → %o', (state, expected) => {
    expect(disabledCommandsFor(state)).toEqual(expected);
  });
});

// Tests listen on loopback only: the listener is told to treat its address as a network one.
describe('on a listener that treats its address as a network address', () => {
  let ctx: TestContext;
  let sink: SmtpSink;
  let withTls: RunningSubmission;
  let withoutTls: RunningSubmission;
  const host = '127.0.0.1';
  const asNetwork = { plaintextAuthAllowed: () => false };
  const pass = 'gus-main-password';
  const authPlain = `AUTH PLAIN ${Buffer.from(`\0gus\0${pass}`).toString('base64')}`;

  beforeAll(async () => {
    ctx = await createTestContext();
    const userId = (await createSender(ctx, 'gus', pass, 'gus@example.test')).id;
    sink = await startSmtpSink();
    // Accepts the right password for gus: this file is about when a password may be sent, not how it is checked.
    const auth = async (_c: unknown, req: { username: string; secret: string }): Promise<AuthResult> =>
      req.username === 'gus' && req.secret === pass
        ? { ok: true, userId, username: 'gus', upstreamUser: 'gus', loginId: null, method: 'main', restricted: false }
        : { ok: false, reason: 'failed' };
    const upstream = { host: sink.host, port: sink.port };
    withTls = await startSubmissionListener(ctx, { host, port: 0, upstream, tls: selfSignedCert(), closeTimeoutMs: 200, ...asNetwork }, auth);
    withoutTls = await startSubmissionListener(ctx, { host, port: 0, upstream, closeTimeoutMs: 200, ...asNetwork }, auth);
  });

  afterAll(async () => {
    await withTls?.close();
    await withoutTls?.close();
    await sink?.close();
    await ctx?.close();
  });

  it('offers STARTTLS but not AUTH before TLS, and refuses a blind AUTH', async () => {
    const s = await Dialogue.open(host, withTls.port);
    const ehlo = await s.say('EHLO client.test');
    expect(ehlo).toContain('STARTTLS');
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await s.say(authPlain)).toMatch(/^5\d\d /);
    expect(await s.say('MAIL FROM:<gus@example.test>')).toMatch(/^530 5\.7\.0 /);
    s.close();
  });

  it('offers AUTH after STARTTLS, and a client that insists on TLS can send', async () => {
    const s = await Dialogue.open(host, withTls.port);
    await s.say('EHLO client.test');
    expect(await s.say('STARTTLS')).toMatch(/^220 /);
    await s.upgrade();
    const ehlo = await s.say('EHLO client.test');
    expect(ehlo).toMatch(/AUTH PLAIN LOGIN/);
    expect(await s.say(authPlain)).toMatch(/^235 /);
    s.close();

    await mailClient({ host, port: withTls.port, user: 'gus', pass, requireTLS: true }).sendMail({
      envelope: { from: 'gus@example.test', to: ['x@elsewhere.test'] },
      raw: rawMessage('gus@example.test', 'x@elsewhere.test', 'over TLS\r\n'),
    });
    const [m] = await sink.waitForMessages(1);
    expect(m!.body.toString()).toMatch(/with ESMTPSA id/);
  });

  it('without a certificate, never lets a password through on a network address', async () => {
    const s = await Dialogue.open(host, withoutTls.port);
    const ehlo = await s.say('EHLO client.test');
    expect(ehlo).not.toMatch(/AUTH|STARTTLS/);
    expect(await s.say(authPlain)).toMatch(/^5\d\d /);
    expect(await s.say('MAIL FROM:<gus@example.test>')).toMatch(/^530 /);
    s.close();
  });

  it('still allows plaintext AUTH to a listener on loopback', async () => {
    const local = await startSubmissionListener(
      ctx,
      { host: '127.0.0.1', port: 0, upstream: { host: sink.host, port: sink.port }, closeTimeoutMs: 200 },
      async () => ({ ok: false, reason: 'failed' }),
    );
    try {
      const s = await Dialogue.open('127.0.0.1', local.port);
      expect(await s.say('EHLO client.test')).toMatch(/AUTH PLAIN LOGIN/);
      expect(await s.say(authPlain)).toMatch(/^535 /);
      s.close();
    } finally {
      await local.close();
    }
  });
});

/** A line-at-a-time SMTP client that can switch to TLS. */
class Dialogue {
  private buf = '';
  private waiting: (() => void) | null = null;
  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.listen();
  }

  static async open(host: string, port: number): Promise<Dialogue> {
    const d = new Dialogue(net.connect(port, host));
    await d.reply();
    return d;
  }

  private listen() {
    this.socket.on('data', (c: Buffer) => {
      this.buf += c.toString('utf8');
      this.waiting?.();
    });
  }

  private reply(): Promise<string> {
    return new Promise((resolve) => {
      const check = () => {
        if (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(this.buf)) return;
        const r = this.buf.trimEnd();
        this.buf = '';
        this.waiting = null;
        resolve(r);
      };
      this.waiting = check;
      check();
    });
  }

  say(line: string): Promise<string> {
    const r = this.reply();
    this.socket.write(line + '\r\n');
    return r;
  }

  async upgrade(): Promise<void> {
    const plain = this.socket as net.Socket;
    plain.removeAllListeners('data');
    this.socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(t));
      t.once('error', reject);
    });
    this.listen();
  }

  close() {
    this.socket.destroy();
  }
}
