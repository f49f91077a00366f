/**
 * A real gateway on 127.0.0.1 in front of the test Dovecot, users in a fresh database, and a raw
 * socket client for transcripts. Mail is checked through the store directly (test/helpers/mailstore.ts).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import { createAppPassword, createOneTimeList, createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { createUser } from '../../../src/accounts/users.js';
import { type ImapGatewayOptions, type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { type TestContext, createTestContext } from '../../helpers/context.js';

export interface LiveGateway {
  ctx: TestContext;
  gateway: RunningImapGateway;
  port: number;
  close(): Promise<void>;
}

/** Starts a context and a gateway; `env` overrides the configuration (e.g. no restricted master). */
export async function startLiveGateway(
  options: { env?: Record<string, string | undefined>; gateway?: Partial<ImapGatewayOptions> } = {},
): Promise<LiveGateway> {
  const ctx = await createTestContext({ env: options.env });
  const gateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0, ...options.gateway });
  return {
    ctx,
    gateway,
    port: gateway.port,
    async close() {
      await gateway.close();
      await ctx.close();
    },
  };
}

export interface MailUser {
  username: string;
  password: string;
  userId: number;
  /** An app password for IMAP. */
  app: string;
  /** A restricted app password for IMAP. */
  restrictedApp: string;
}

/** A user with a unique name (so its mailbox is its own), a main password and two app passwords. */
export async function createMailUser(ctx: TestContext, prefix = 'u'): Promise<MailUser> {
  const username = `${prefix}${crypto.randomBytes(5).toString('hex')}`;
  const password = `main-${crypto.randomBytes(8).toString('hex')}`;
  const user = await createUser(ctx, { username, password, mobile: '+33612345678' });
  const app = await createAppPassword(ctx, { userId: user.id, services: ['imap'] });
  const restrictedApp = await createAppPassword(ctx, { userId: user.id, services: ['imap'], restricted: true });
  return { username, password, userId: user.id, app: app.secret, restrictedApp: restrictedApp.secret };
}

export { createOneTimeList, createUserChosenLogin };

/** imapflow through the gateway. */
export async function gatewayClient(port: number, user: string, pass: string): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true });
  await client.connect();
  return client;
}

/** A self-signed certificate for 127.0.0.1, made with openssl for this test run. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    return { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP proxy to the store, so a test can cut the gateway's upstream connections or watch them close. */
export async function startStoreProxy(target: { host: string; port: number }) {
  const pairs = new Set<{ inbound: net.Socket; outbound: net.Socket; loggedIn: boolean; log: Buffer[] }>();
  /** Every byte the gateway sent to the store, per connection. */
  const sent: Buffer[][] = [];
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    const log: Buffer[] = [];
    const pair = { inbound, outbound, loggedIn: false, log };
    pairs.add(pair);
    sent.push(log);
    inbound.on('data', (d: Buffer) => {
      log.push(d);
      if (/ AUTHENTICATE /i.test(d.toString('latin1'))) pair.loggedIn = true;
    });
    inbound.pipe(outbound).pipe(inbound);
    const end = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('close', end).on('error', end);
    outbound.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pairs,
    /** Connections a session logged in on (the others are greeted connections the gateway keeps ready). */
    sessions: () => [...pairs].filter((p) => p.loggedIn),
    sent,
    close: () => new Promise<void>((resolve) => {
      for (const p of pairs) p.inbound.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A raw client: send bytes, read what the gateway answers. */
export class RawClient {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** `localAddress` (e.g. 127.0.0.2, plain connections only) makes the client come from another loopback address. */
  static async connect(port: number, options: { tls?: boolean; localAddress?: string } = {}): Promise<RawClient> {
    const { localAddress } = options;
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1', localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    await client.waitFor(/^\* OK .*\r\n/);
    return client;
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until the text so far matches; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = new RegExp(pattern.source, pattern.flags.includes('m') ? pattern.flags : `${pattern.flags}m`).exec(this.text);
      if (m) return m;
      if (this.closed) throw new Error(`connection closed before ${pattern}; got:\n${this.text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a tagged command line and returns its tagged response line. */
  async command(tag: string, line: string): Promise<string> {
    this.send(`${tag} ${line}\r\n`);
    return this.tagged(tag);
  }

  /** The tagged response line of `tag` (waits for it). */
  async tagged(tag: string): Promise<string> {
    const m = await this.waitFor(new RegExp(`^${escape(tag)} (OK|NO|BAD)[^\\r]*\\r\\n`));
    return m[0].trimEnd();
  }

  /** Resolves once the gateway has closed the connection. */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Logs in with LOGIN and returns the tagged answer. */
  login(user: string, pass: string, tag = 'L1'): Promise<string> {
    return this.command(tag, `LOGIN ${quote(user)} ${quote(pass)}`);
  }

  close(): void {
    this.socket.destroy();
  }

  /** After the gateway's OK to STARTTLS: the same connection, now encrypted (new transcript). */
  async upgrade(): Promise<RawClient> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    return new RawClient(secure);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
