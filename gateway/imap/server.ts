/**
 * The IMAP listeners: plain IMAP with STARTTLS on IMAP_PORT, and implicit TLS on IMAPS_PORT when a
 * certificate is configured (TLS_CERT / TLS_KEY). Each accepted socket becomes an ImapConnection;
 * a failing connection never takes the listener or the other sessions with it.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { authenticate } from '../../src/auth/authenticate.js';
import type { AppContext } from '../../src/context.js';
import { ConnectionLimiter, type ConnectionCaps } from '../connection-limits.js';
import { isLoopbackAddress } from '../loopback.js';
import { readProxyHeader, screenForgedHeader } from '../proxy-protocol.js';
import { isTrustedProxy, normalizePeerAddress } from '../../src/trusted-proxies.js';
import { destroyLater } from './destroy-later.js';
import type { Authenticator, ConnectionSettings } from './connection-settings.js';
import { meterImapClient } from '../../src/metrics/record.js';
import { ImapConnection } from './connection.js';
import { AUTHENTICATED_IDLE_TIMEOUT_MS, UNAUTHENTICATED_IDLE_TIMEOUT_MS } from './limits.js';
import { UpstreamSessionCache } from './session-cache.js';
import { UpstreamPool } from './upstream-pool.js';

export interface ImapGatewayOptions {
  host: string;
  /** Plain IMAP (STARTTLS when TLS is configured); 0 picks a free port. */
  port: number;
  /** PEM key and certificate; defaults to the files named by TLS_KEY / TLS_CERT. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Implicit-TLS port, used only when TLS is configured; defaults to IMAPS_PORT. */
  imapsPort?: number;
  /**
   * Whether LOGIN/AUTHENTICATE may be used before TLS on a connection that arrived on this local
   * address. Default: loopback only. Tests inject `() => false` to exercise the network rules on 127.0.0.1.
   */
  plaintextLoginAllowed?: (localAddress: string | undefined) => boolean;
  /** Defaults to the accounts core; tests pass their own for outcomes that are hard to provoke. */
  authenticate?: Authenticator;
  unauthenticatedTimeoutMs?: number;
  authenticatedTimeoutMs?: number;
  /** Time to log in after connecting; defaults to PRE_LOGIN_DEADLINE_SECONDS. */
  preLoginDeadlineMs?: number;
  /** Connection caps (IMAP and IMAPS together); default IMAP_MAX_CONNECTIONS[_PER_ADDRESS]. */
  connectionCaps?: ConnectionCaps;
  /** How long a logged-out client's store session waits for its next login; 0 turns reuse off. Defaults to IMAP_SESSION_REUSE_SECONDS. */
  sessionReuseMs?: number;
  /** Time a trusted proxy has to send its PROXY header; default PROXY_HEADER_TIMEOUT_MS. */
  proxyHeaderTimeoutMs?: number;
}

export interface RunningListener {
  port: number;
  close(): Promise<void>;
}

/** What an IDLE or idle client reads when the process stops (RFC 9051 §7.1.5 BYE, [UNAVAILABLE] per RFC 5530). */
export const DRAIN_BYE = '[UNAVAILABLE] Server restarting; reconnect shortly';

export interface RunningImapGateway extends RunningListener {
  /** The implicit-TLS port, or null when TLS is not configured. */
  imapsPort: number | null;
  /**
   * Stops accepting, ends every session as soon as it has no command in flight (`* BYE`, store logged out),
   * logs parked store sessions out, and after `deadlineMs` cuts what is left; resolves when all are gone.
   */
  drain(deadlineMs: number): Promise<'drained' | 'cut'>;
}

/** Starts the IMAP gateway; resolves once every listener is bound. */
export async function startImapGateway(ctx: AppContext, options: ImapGatewayOptions): Promise<RunningImapGateway> {
  const tlsFiles = options.tls ?? readTlsFiles(ctx);
  const reuseMs = options.sessionReuseMs ?? ctx.config.IMAP_SESSION_REUSE_SECONDS * 1000;
  const tlsContext = tlsFiles ? tls.createSecureContext({ key: tlsFiles.key, cert: tlsFiles.cert, minVersion: 'TLSv1.2' }) : null;
  const settings: ConnectionSettings = {
    ctx,
    authenticate: options.authenticate ?? authenticate,
    tlsContext,
    plaintextLoginAllowed: options.plaintextLoginAllowed ?? isLoopbackAddress,
    unauthenticatedTimeoutMs: options.unauthenticatedTimeoutMs ?? UNAUTHENTICATED_IDLE_TIMEOUT_MS,
    preLoginDeadlineMs: options.preLoginDeadlineMs ?? ctx.config.PRE_LOGIN_DEADLINE_SECONDS * 1000,
    authenticatedTimeoutMs: options.authenticatedTimeoutMs ?? AUTHENTICATED_IDLE_TIMEOUT_MS,
    maxMessageSize: ctx.config.MAX_MESSAGE_SIZE,
    upstreamPool: ctx.config.UPSTREAM_IMAP
      ? new UpstreamPool({ host: ctx.config.UPSTREAM_IMAP.host, port: ctx.config.UPSTREAM_IMAP.port, tls: ctx.config.UPSTREAM_IMAP_TLS })
      : null,
    sessionCache: reuseMs > 0 ? new UpstreamSessionCache(reuseMs) : null,
  };
  const connections = new Set<ImapConnection>();
  const limiter = new ConnectionLimiter(
    'imap',
    options.connectionCaps ?? { total: ctx.config.IMAP_MAX_CONNECTIONS, perAddress: ctx.config.IMAP_MAX_CONNECTIONS_PER_ADDRESS },
    ctx.log,
  );
  const log = ctx.log.child({ component: 'imap' });
  let accepting = true;

  /** A connection whose client is known (the peer, or the one a trusted proxy named): counted, then served. */
  const serve = (raw: net.Socket, secure: boolean, clientIp: string) => {
    if (!accepting || raw.destroyed) return void raw.destroy();
    if (!limiter.admit(clientIp)) {
      if (secure) return void raw.destroy();
      // RFC 9051 §7.1.5: BYE as the greeting, then close.
      raw.on('error', () => raw.destroy());
      raw.end('* BYE [UNAVAILABLE] Too many connections; try again later\r\n');
      return destroyLater(raw);
    }
    raw.once('close', () => limiter.release(clientIp));
    meterImapClient(raw);
    let socket: net.Socket = raw;
    if (secure) {
      // Implicit TLS over the raw socket (after any PROXY header); bytes already read are handed to TLS.
      raw.on('error', () => raw.destroy());
      socket = new tls.TLSSocket(raw, { isServer: true, secureContext: tlsContext! });
    }
    connections.add(new ImapConnection(socket, secure, settings, (c) => connections.delete(c), clientIp));
  };
  /** Every accepted socket: a trusted proxy's header first (gateway/proxy-protocol.ts); anyone else's refused. */
  const onSocket = (raw: net.Socket, secure: boolean) => {
    raw.setNoDelay(true);
    const peer = normalizePeerAddress(raw.remoteAddress);
    if (!isTrustedProxy(ctx.config.TRUSTED_PROXIES, peer)) {
      if (!secure) screenForgedHeader(raw, () => log.warn({ code: 'PROXY_HEADER_FORGED', ip: peer }, 'PROXY header from an untrusted peer refused'));
      return serve(raw, secure, peer);
    }
    void readProxyHeader(raw, options.proxyHeaderTimeoutMs).then((outcome) => {
      if (!outcome.ok) return log.warn({ code: 'PROXY_HEADER_INVALID', proxy: peer, reason: outcome.reason }, 'trusted proxy connection without a valid PROXY header closed');
      serve(raw, secure, outcome.clientIp);
    });
  };

  const plain = net.createServer({ noDelay: true }, (socket) => onSocket(socket, false));
  const servers: net.Server[] = [plain];
  await listen(plain, options.port, options.host);
  let imapsPort: number | null = null;
  if (tlsContext) {
    const secure = net.createServer({ noDelay: true }, (socket) => onSocket(socket, true));
    servers.push(secure);
    try {
      await listen(secure, options.imapsPort ?? ctx.config.IMAPS_PORT, options.host);
    } catch (error) {
      plain.close();
      limiter.close();
      settings.upstreamPool?.close();
      settings.sessionCache?.close();
      throw error;
    }
    imapsPort = (secure.address() as net.AddressInfo).port;
  }

  const closeEverything = async (): Promise<void> => {
    accepting = false;
    limiter.close();
    settings.upstreamPool?.close();
    settings.sessionCache?.close();
    for (const c of connections) c.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };

  return {
    port: (plain.address() as net.AddressInfo).port,
    imapsPort,
    drain: async (deadlineMs) => {
      accepting = false;
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      settings.sessionCache?.close();
      for (const c of connections) c.drain(DRAIN_BYE);
      const deadline = Date.now() + deadlineMs;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const how = connections.size > 0 ? 'cut' : 'drained';
      log.info({ code: 'IMAP_DRAINED', how, cut: connections.size }, 'imap listeners drained');
      await closeEverything();
      await closed;
      return how;
    },
    close: closeEverything,
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readTlsFiles(ctx: AppContext): { key: Buffer; cert: Buffer } | undefined {
  const { TLS_KEY, TLS_CERT } = ctx.config;
  if (!TLS_KEY || !TLS_CERT) return undefined;
  return { key: fs.readFileSync(TLS_KEY), cert: fs.readFileSync(TLS_CERT) };
}
