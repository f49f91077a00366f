/**
 * Opening the upstream session for one authenticated client: connect to the store, refuse a PREAUTH
 * greeting (we must choose the identity, RFC 9051 §7.1.4), send ID with the client's address, and log in
 * with SASL PLAIN as authzid = mailbox user, authcid = master user (RFC 4616 §2).
 *
 * ID comes before AUTHENTICATE on purpose: Dovecot applies `x-originating-ip` only in its login process,
 * and only from login_trusted_networks (the gateway is one).
 */
import net from 'node:net';
import tls from 'node:tls';
import { MAX_UPSTREAM_LOGIN_LINE_BYTES, UPSTREAM_LOGIN_TIMEOUT_MS } from './limits.js';
import { connectRecycling, readerChanging, readsByCopy } from './read-buffers.js';

export interface UpstreamTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface UpstreamIdentity {
  /** The master user (SASL authcid). */
  authcid: string;
  password: string;
  /** The mailbox to act as (SASL authzid). */
  authzid: string;
}

export interface UpstreamSession {
  socket: net.Socket;
  /** Capabilities the store announced after login (unfiltered). */
  capabilities: string[];
  /** Bytes already read past the login exchange (normally empty). */
  leftover: Buffer;
}

/** Why the upstream session could not be opened; the client gets `NO [UNAVAILABLE]` in every case. */
export class UpstreamError extends Error {
  constructor(
    readonly code: 'UPSTREAM_UNREACHABLE' | 'UPSTREAM_PREAUTH' | 'UPSTREAM_LOGIN_REFUSED' | 'UPSTREAM_PROTOCOL',
    message: string,
  ) {
    super(message);
  }
}

const LOGIN_TIMEOUT_MS = UPSTREAM_LOGIN_TIMEOUT_MS;
const MAX_LOGIN_LINE = MAX_UPSTREAM_LOGIN_LINE_BYTES;

/** Quoted string per RFC 9051 §4.3; callers only pass values without CR, LF or NUL. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A connection to the store that has been greeted but not logged in: what the pool keeps warm so that
 * a login only pays for its ID + AUTHENTICATE round trip.
 */
export interface GreetedUpstream {
  socket: net.Socket;
  lines: LoginLineReader;
  greeting: string;
  /** performance.now() when it was greeted; the pool does not hand out old ones. */
  greetedAt: number;
}

/** Connects to the store and reads its greeting (not yet judged: openUpstream does that). */
export async function greetUpstream(target: UpstreamTarget, timeoutMs = LOGIN_TIMEOUT_MS): Promise<GreetedUpstream> {
  const socket = await connect(target, timeoutMs);
  const lines = new LoginLineReader(socket);
  const deadline = setTimeout(() => socket.destroy(new UpstreamError('UPSTREAM_UNREACHABLE', 'greeting timed out')), timeoutMs);
  try {
    const greeting = await lines.next();
    return { socket, lines, greeting, greetedAt: performance.now() };
  } catch (e) {
    socket.destroy();
    throw e instanceof UpstreamError ? e : new UpstreamError('UPSTREAM_UNREACHABLE', (e as Error).message);
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Opens the store session for one client. `greeted` is a connection taken from the pool (see
 * upstream-pool.ts); without one a new connection is made.
 */
export async function openUpstream(
  target: UpstreamTarget,
  identity: UpstreamIdentity,
  clientIp: string,
  timeoutMs = LOGIN_TIMEOUT_MS,
  greeted: GreetedUpstream | null = null,
): Promise<UpstreamSession> {
  const { socket, lines, greeting } = greeted ?? (await greetUpstream(target, timeoutMs));
  const deadline = setTimeout(() => socket.destroy(new UpstreamError('UPSTREAM_UNREACHABLE', 'login timed out')), timeoutMs);
  try {
    if (/^\* PREAUTH/i.test(greeting)) throw new UpstreamError('UPSTREAM_PREAUTH', 'the store greeted with PREAUTH');
    if (!/^\* OK/i.test(greeting)) throw new UpstreamError('UPSTREAM_UNREACHABLE', 'the store did not greet with OK');

    const plain = Buffer.from(`${identity.authzid}\0${identity.authcid}\0${identity.password}`, 'utf8').toString('base64');
    const id = `P1 ID ("name" "Postern" "x-originating-ip" ${quote(clientIp)})\r\n`;
    let done: string;
    if (/\bSASL-IR\b/i.test(greeting)) {
      // One round trip, as a direct client has: ID and AUTHENTICATE with its initial response (RFC 4959)
      // pipelined. The store still runs them in order, so the address is known before the login.
      socket.write(`${id}P2 AUTHENTICATE PLAIN ${plain}\r\n`);
      await lines.untilTagged('P1');
      done = await lines.untilTagged('P2');
    } else {
      socket.write(id);
      await lines.untilTagged('P1');
      socket.write('P2 AUTHENTICATE PLAIN\r\n');
      const cont = await lines.next();
      if (!cont.startsWith('+')) throw new UpstreamError('UPSTREAM_PROTOCOL', 'the store refused AUTHENTICATE PLAIN');
      socket.write(`${plain}\r\n`);
      done = await lines.untilTagged('P2');
    }
    if (!/^P2 OK/i.test(done)) throw new UpstreamError('UPSTREAM_LOGIN_REFUSED', 'the store refused the master login');

    let capabilities = /\[CAPABILITY ([^\]]*)\]/i.exec(done)?.[1]?.split(' ');
    if (!capabilities) {
      socket.write('P3 CAPABILITY\r\n');
      const untagged: string[] = [];
      await lines.untilTagged('P3', untagged);
      capabilities = untagged.find((l) => /^\* CAPABILITY /i.test(l))?.slice(13).split(' ') ?? [];
    }
    return { socket, capabilities, leftover: lines.detach() };
  } catch (e) {
    socket.destroy();
    throw e instanceof UpstreamError ? e : new UpstreamError('UPSTREAM_UNREACHABLE', (e as Error).message);
  } finally {
    clearTimeout(deadline);
  }
}

function connect(target: UpstreamTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: net.isIP(target.host) ? undefined : target.host })
      : connectRecycling(target.port, target.host);
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), timeoutMs);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(new UpstreamError('UPSTREAM_UNREACHABLE', e.message));
    };
    socket.once('error', onError);
  });
}

/** CRLF lines during the short login exchange (no literals are expected there). */
export class LoginLineReader {
  private buffer = Buffer.alloc(0);
  private waiters: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  private failed: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.drain();
  };
  private readonly onEnd = (e?: Error) => {
    this.failed = new UpstreamError('UPSTREAM_UNREACHABLE', e?.message ?? 'the store closed the connection');
    for (const w of this.waiters.splice(0)) w.reject(this.failed);
  };
  private readonly onClose = () => this.onEnd();

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    // onData copies every chunk, so a reused read buffer is free as soon as it returns.
    readsByCopy(socket);
    socket.on('error', this.onEnd);
    socket.on('close', this.onClose);
  }

  /** Still open, and the store has said nothing since the greeting (a pooled connection must not have). */
  get quiet(): boolean {
    return this.failed === null && !this.socket.destroyed && this.buffer.length === 0;
  }

  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.drain();
    });
  }

  async untilTagged(tag: string, untagged: string[] = []): Promise<string> {
    for (;;) {
      const line = await this.next();
      if (line.startsWith(`${tag} `)) return line;
      untagged.push(line);
    }
  }

  /** Stops reading; returns what was read but not consumed. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    // The next reader (the relay) says for itself when a chunk is free.
    readerChanging(this.socket);
    this.socket.off('error', this.onEnd);
    this.socket.off('close', this.onClose);
    return this.buffer;
  }

  private drain(): void {
    if (this.failed) {
      for (const w of this.waiters.splice(0)) w.reject(this.failed);
      return;
    }
    while (this.waiters.length) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) {
        if (this.buffer.length > MAX_LOGIN_LINE) this.onEnd(new Error('login response too long'));
        return;
      }
      const line = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      this.waiters.shift()!.resolve(line);
    }
  }
}
