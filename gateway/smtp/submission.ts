/**
 * The SMTP submission listener (RFC 6409) on SMTP_PORT, built on smtp-server. smtp-server owns framing,
 * pipelining, STARTTLS (and discarding what was pipelined before it) and SASL; this file only plugs
 * Postern's rules into its hooks:
 *   connect/secure → which commands this connection may use (transport-security.ts)
 *   AUTH           → authenticate(service 'smtp'); PLAIN and LOGIN only
 *   MAIL FROM      → authenticated, and only an address the user owns (authorizeSender, src/submission)
 *   RCPT TO        → at most the login's recipient limit (src/submission/rate-limits.ts)
 *   DATA           → read whole (≤ MAX_MESSAGE_SIZE), then submitMessage: header checks, hourly
 *                    limits, relay, delivery report — the same call web compose makes
 * On SMTPS_PORT the same hooks run behind implicit TLS (RFC 8314).
 * The authenticator is a parameter so the reply mapping can be tested for outcomes that are hard to
 * provoke through the real core (throttling, SMS provider down); server.ts passes the real one.
 */
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../../src/context.js';
import type { AuthRequest, AuthResult, AuthSuccess } from '../../src/auth/types.js';
import { normalizeAddress } from '../../src/accounts/addresses.js';
import { authorizeSender, checkRecipientCount, refusals, submitMessage, type SubmitFailure } from '../../src/submission/index.js';
import type { UpstreamSmtp } from '../../src/submission/relay.js';
import { replies, replyForAuthFailure, SmtpReply } from './replies.js';
import { isLoopbackAddress } from '../loopback.js';
import { disabledCommandsFor } from './transport-security.js';
import { ConnectionLimiter, type ConnectionCaps } from '../connection-limits.js';
import { smtpClientName, trackSmtpSessions } from './live-sessions.js';
import { readProxyHeader, screenForgedHeader } from '../proxy-protocol.js';
import { isTrustedProxy, normalizePeerAddress } from '../../src/trusted-proxies.js';
import { PreLoginDeadline } from '../imap/pre-login-deadline.js';

export type Authenticator = (ctx: AppContext, request: AuthRequest) => Promise<AuthResult>;

export interface SubmissionOptions {
  host: string;
  port: number;
  /** PEM key and certificate: STARTTLS is offered only when these are given. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Where accepted mail goes (default: UPSTREAM_SMTP, else the dev MTA). */
  upstream?: UpstreamSmtp;
  /** Also listen with implicit TLS on this port (0: a free one) when `tls` is given. */
  smtpsPort?: number;
  /** How long close() lets a client finish its current message before cutting it off. */
  closeTimeoutMs?: number;
  /**
   * May a password travel without TLS on a connection that arrived at this local address? Default: only
   * on loopback. Tests inject `() => false` to exercise the network-address rules on a loopback listener.
   */
  plaintextAuthAllowed?: (localAddress: string | undefined) => boolean;
  /** Default SMTP_MAX_CONNECTIONS[_PER_ADDRESS]. */
  connectionCaps?: ConnectionCaps;
  /** Time a trusted proxy has to send its PROXY header; default PROXY_HEADER_TIMEOUT_MS. */
  proxyHeaderTimeoutMs?: number;
  /** Time to authenticate after connecting; default SMTP_PRE_LOGIN_DEADLINE_SECONDS. */
  preLoginDeadlineMs?: number;
}

export interface RunningSubmission {
  port: number;
  /** The implicit-TLS port, when one listens. */
  smtpsPort?: number;
  close(): Promise<void>;
}

/** Wrong logins one connection may make before it is closed: guessing must reconnect (and meet the throttle). */
export const MAX_AUTH_FAILURES_PER_CONNECTION = 3;
/** RFC 5321 §4.5.3.2 asks servers to wait at least 5 minutes for the client's next command. */
const IDLE_TIMEOUT_MS = 5 * 60_000;
/** Implicit TLS (SMTPS): time for the handshake after the connection (and any PROXY header). */
const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;

type Session = SMTPServerSession & { user?: AuthSuccess; authFailures?: number };

export async function startSubmissionListener(
  ctx: AppContext,
  options: SubmissionOptions,
  authenticate: Authenticator,
): Promise<RunningSubmission> {
  const log = ctx.log.child({ component: 'smtp' });
  const maxBytes = ctx.config.MAX_MESSAGE_SIZE;
  const tlsAvailable = Boolean(options.tls);
  const name = os.hostname();
  const plaintextAllowed = options.plaintextAuthAllowed ?? isLoopbackAddress;
  const caps = options.connectionCaps ?? { total: ctx.config.SMTP_MAX_CONNECTIONS, perAddress: ctx.config.SMTP_MAX_CONNECTIONS_PER_ADDRESS };
  // The total is smtp-server's maxClients (checked as the socket arrives); the per-address cap here.
  const limiter = new ConnectionLimiter('smtp', { total: Number.MAX_SAFE_INTEGER, perAddress: caps.perAddress }, log);
  const admitted = new Set<string>();
  const live = trackSmtpSessions(ctx, () => servers);
  // The pre-login deadline (as IMAP's, gateway/imap/pre-login-deadline.ts): counted from connecting, not
  // reset by traffic, stopped while the gateway verifies a login; at the end, 421 and the connection closes.
  const deadlineMs = options.preLoginDeadlineMs ?? ctx.config.SMTP_PRE_LOGIN_DEADLINE_SECONDS * 1000;
  const deadlines = new Map<string, PreLoginDeadline>();
  const connectionOf = (id: string) => servers.flatMap((server) => [...server.connections]).find((c) => c.id === id) ?? null;
  const startDeadline = (session: Session) => {
    const deadline = new PreLoginDeadline(deadlineMs, () => {
      deadlines.delete(session.id);
      if (session.user) return;
      const conn = connectionOf(session.id);
      conn?.send(421, replies.preLoginDeadline(Math.round(deadlineMs / 1000)).message);
      conn?.close();
    });
    deadlines.set(session.id, deadline);
  };

  /** The context each session's work runs with: the same, with a logger that names the session (pino child). */
  const sessionContexts = new Map<string, AppContext>();
  const sessionCtx = (session: Session): AppContext => {
    let c = sessionContexts.get(session.id);
    if (!c) sessionContexts.set(session.id, (c = { ...ctx, log: log.child({ session: session.id, protocol: 'smtp' }) }));
    return c;
  };

  const onAuth = (auth: SMTPServerAuthentication, session: Session, done: (err?: Error | null, res?: { user: AuthSuccess }) => void) => {
    // Defence in depth: AUTH is already hidden on such connections (transport-security.ts).
    if (!session.secure && !plaintextAllowed(session.localAddress)) return done(replies.authFailed());
    // The gateway logs in upstream as the authenticated user only; acting for someone else is refused.
    if (auth.authzid && auth.authcid && normalizeAddress(auth.authzid) !== normalizeAddress(auth.authcid))
      return done(replies.authzidRefused());
    const ip = session.remoteAddress;
    const authStartedAt = new Date();
    // Our own verification is not the client's time.
    const deadline = deadlines.get(session.id);
    deadline?.pause();
    const sctx = sessionCtx(session);
    // The EHLO name names the client, as IMAP's ID does: app passwords' "new client" notices, the session list.
    const client = smtpClientName(session);
    authenticate(sctx, { username: auth.username ?? '', secret: auth.password ?? '', service: 'smtp', ip, ...(client ? { client } : {}) }).then(
      (result) => {
        if (result.ok) deadline?.stop();
        else deadline?.resume();
        if (result.ok) {
          // Answered only once the session is confirmed: a login revoked while verifying gets the 421.
          return void live.started(session, result, authStartedAt).then((confirmed) => {
            if (confirmed) done(null, { user: result });
          });
        }
        sctx.log.info({ code: 'SMTP_AUTH_FAILED', reason: result.reason, ip }, 'smtp authentication refused');
        session.authFailures = (session.authFailures ?? 0) + 1;
        // smtp-server closes the connection after a 421.
        if (result.reason === 'failed' && session.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION) return done(replies.tooManyAuthFailures());
        done(replyForAuthFailure(result));
      },
      (err: unknown) => {
        sctx.log.error({ code: 'SMTP_AUTH_ERROR', err: errorSummary(err), ip }, 'smtp authentication crashed');
        deadline?.resume();
        log.error({ code: 'SMTP_AUTH_ERROR', err: errorSummary(err), ip }, 'smtp authentication crashed');
        done(replies.authUnavailable());
      },
    );
  };

  const onMailFrom = (address: { address: string }, session: Session, done: (err?: Error | null) => void) => {
    const user = session.user;
    if (!user) return done(replies.authRequired());
    live.touched(session);
    // Checked here already (and again at the end of DATA, by submitMessage) so a client learns before
    // sending the body; the rule is authorizeSender's, not this file's.
    authorizeSender(sessionCtx(session), user.userId, address.address ?? '').then(
      (refused) => done(refused ? replyFor(refused) : null),
      (err: unknown) => {
        sessionCtx(session).log.error({ code: 'SMTP_SENDER_CHECK_ERROR', err: errorSummary(err) }, 'sender check failed');
        done(replies.internal());
      },
    );
  };

  const onRcptTo = (_address: unknown, session: Session, done: (err?: Error | null) => void) => {
    const user = session.user;
    if (!user) return done(replies.authRequired());
    const refused = checkRecipientCount(ctx, user, session.envelope.rcptTo.length + 1);
    done(refused ? replyFor(refused) : null);
  };

  /** Sessions in the middle of DATA: a drain lets them finish (their reply first, then the 421). */
  const inData = new Set<string>();
  let draining = false;
  const shutDown = (id: string) => {
    const conn = connectionOf(id);
    conn?.send(421, '4.3.2 Server shutting down; try again shortly');
    conn?.close();
  };

  const onData = (stream: Readable & { sizeExceeded?: boolean }, session: Session, reply: (err?: Error | null, message?: string) => void) => {
    inData.add(session.id);
    const done = (err?: Error | null, message?: string) => {
      inData.delete(session.id);
      reply(err, message);
      if (draining) setImmediate(() => shutDown(session.id));
    };
    const user = session.user;
    if (!user || !session.envelope.mailFrom) {
      stream.resume();
      return stream.once('end', () => done(replies.authRequired()));
    }
    // The whole message is held (at most MAX_MESSAGE_SIZE) because From:/Sender: are judged before any
    // byte goes upstream; over the limit, the rest is only counted and thrown away.
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
    });
    // A client gone mid-message never reaches 'end': nothing is submitted.
    stream.once('end', () => {
      if (bytes > maxBytes || stream.sizeExceeded) return done(replyFor(refusals.messageTooBig(maxBytes)));
      submitMessage(sessionCtx(session), {
        userId: user.userId,
        loginId: user.loginId,
        restricted: user.restricted,
        via: 'smtp',
        clientIp: session.remoteAddress ?? null,
        envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        recipients: session.envelope.rcptTo.map((r) => r.address),
        message: Buffer.concat(chunks),
        trace: receivedHeader(session, name),
        declaredSize: declaredSize(session),
        upstream: options.upstream,
      }).then(
        (result) => {
          if (!result.ok) return done(replyFor(result));
          if (!result.rejected.length) return done(null, '2.0.0 Message accepted for delivery');
          // The upstream took the message for some recipients only. Failing now would make the client send it
          // again to everyone; the sender gets a delivery report in their INBOX, and the reply names them too.
          const refused = (result.refused ?? []).map((r) => `${r.address} (${r.responseCode ?? 'refused'})`).join(', ');
          done(null, `2.0.0 Accepted for ${result.accepted.length} recipient(s); refused by the outgoing server: ${refused}; a report is in your INBOX`);
        },
        () => done(replies.internal()),
      );
    });
  };

  const serverOptions = (secure: boolean): SMTPServerOptions => ({
    name,
    banner: 'Postern ESMTP submission',
    // Not "Nice to meet you, <client's reverse-DNS name>": the greeting tells the client nothing about itself.
    heloResponse: '%s at your service',
    disableReverseLookup: true,
    authMethods: ['PLAIN', 'LOGIN'],
    // Plaintext AUTH is decided per connection (onConnect), where the local address is known.
    allowInsecureAuth: true,
    authRequiredMessage: '5.7.0 Authentication required',
    size: maxBytes,
    rejectOversized: true,
    secure,
    disabledCommands: tlsAvailable && !secure ? [] : ['STARTTLS'],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    socketTimeout: IDLE_TIMEOUT_MS,
    closeTimeout: options.closeTimeoutMs ?? 10_000,
    // smtp-server's own log would repeat usernames and addresses; ours carries codes and ids.
    logger: false,
    maxClients: caps.total,
    onConnect(session, done) {
      if (!limiter.admit(session.remoteAddress)) return done(replies.tooManyConnections());
      admitted.add(session.id);
      sessionCtx(session).log.info({ ip: session.remoteAddress, secure }, 'smtp connection opened');
      startDeadline(session);
      session.disabledCommands = disabledCommandsFor({ tlsAvailable: tlsAvailable && !secure, secure, plaintextAllowed: plaintextAllowed(session.localAddress) });
      done();
    },
    onSecure(_socket, session, done) {
      session.disabledCommands = disabledCommandsFor({ tlsAvailable: false, secure: true, plaintextAllowed: plaintextAllowed(session.localAddress) });
      done();
    },
    onClose(session) {
      if (admitted.delete(session.id)) limiter.release(session.remoteAddress);
      sessionContexts.get(session.id)?.log.info({ loggedIn: Boolean((session as Session).user) }, 'smtp connection closed');
      sessionContexts.delete(session.id);
      deadlines.get(session.id)?.stop();
      deadlines.delete(session.id);
      live.closed(session);
    },
    onAuth,
    onMailFrom,
    onRcptTo,
    onData,
  });

  const servers: SMTPServer[] = [];
  const listeners: net.Server[] = [];
  const tlsContext = options.tls ? tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }) : null;
  let accepting = true;
  /**
   * Our own listener in front of smtp-server's connection handling: the PROXY header of a trusted proxy is
   * read first (gateway/proxy-protocol.ts; smtp-server's own reads only v1), and implicit TLS starts after it.
   * smtp-server then gets the socket through its public connect(), with the client's address.
   */
  const listen = async (secure: boolean, port: number): Promise<number> => {
    const smtp = new SMTPServer(serverOptions(secure));
    smtp.on('error', (err) => log.warn({ code: 'SMTP_CONNECTION_ERROR', err: errorSummary(err) }, 'smtp connection error'));
    const hand = (socket: net.Socket, clientIp: string, clientPort: number | null) => {
      if (!accepting) return void socket.destroy();
      smtp.connect(socket, { remoteAddress: clientIp, ...(clientPort !== null ? { remotePort: clientPort } : {}) });
    };
    const serve = (raw: net.Socket, clientIp: string, clientPort: number | null) => {
      if (!secure) return hand(raw, clientIp, clientPort);
      raw.on('error', () => raw.destroy());
      const tlsSocket = new tls.TLSSocket(raw, { isServer: true, secureContext: tlsContext! });
      const failed = () => tlsSocket.destroy();
      tlsSocket.once('error', failed);
      tlsSocket.setTimeout(TLS_HANDSHAKE_TIMEOUT_MS, failed);
      tlsSocket.once('secure', () => {
        tlsSocket.off('error', failed);
        tlsSocket.setTimeout(0, failed);
        hand(tlsSocket, clientIp, clientPort);
      });
    };
    const server = net.createServer((raw) => {
      const peer = normalizePeerAddress(raw.remoteAddress);
      if (!accepting) return void raw.destroy();
      if (!isTrustedProxy(ctx.config.TRUSTED_PROXIES, peer)) {
        if (!secure) screenForgedHeader(raw, () => log.warn({ code: 'PROXY_HEADER_FORGED', ip: peer }, 'PROXY header from an untrusted peer refused'));
        return serve(raw, peer, raw.remotePort ?? null);
      }
      void readProxyHeader(raw, options.proxyHeaderTimeoutMs).then((outcome) => {
        if (!outcome.ok) return log.warn({ code: 'PROXY_HEADER_INVALID', proxy: peer, reason: outcome.reason }, 'trusted proxy connection without a valid PROXY header closed');
        serve(raw, outcome.clientIp, outcome.clientPort);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(smtp);
    listeners.push(server);
    return (server.address() as net.AddressInfo).port;
  };
  /**
   * Stops accepting, then drains: `421` to every session not in the middle of a message at once, and to the
   * others once their message has its reply; whatever is left at the deadline is cut with a 421.
   */
  const closeAll = async () => {
    accepting = false;
    draining = true;
    const closed = Promise.all(listeners.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const server of servers) for (const conn of server.connections) if (!inData.has(conn.id)) shutDown(conn.id);
    const deadline = Date.now() + (options.closeTimeoutMs ?? 10_000);
    while (servers.some((s) => s.connections.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const server of servers) for (const conn of server.connections) shutDown(conn.id);
    limiter.close();
    await closed;
    for (const deadline of deadlines.values()) deadline.stop();
    deadlines.clear();
    return Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  };

  try {
    const port = await listen(false, options.port);
    // Implicit TLS (RFC 8314 §3.3) beside STARTTLS, when there is a certificate and a port for it.
    const smtpsPort = options.tls && options.smtpsPort !== undefined ? await listen(true, options.smtpsPort) : undefined;
    log.info({ host: options.host, port, smtpsPort, starttls: tlsAvailable }, 'smtp submission listening');
    return { port, smtpsPort, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** The SIZE= the client gave with MAIL FROM, if any. */
function declaredSize(session: Session): number | undefined {
  const args = session.envelope.mailFrom ? (session.envelope.mailFrom.args as Record<string, string> | false) : false;
  const n = Number(args && args.SIZE);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A refusal from src/submission as the reply smtp-server writes. */
function replyFor(failure: SubmitFailure): SmtpReply {
  return new SmtpReply(failure.smtpStatus, failure.text);
}

/** RFC 5321 §4.4 trace field; ESMTPSA/ESMTPA per RFC 3848. The user's name is not written into the mail. */
function receivedHeader(session: Session, name: string): Buffer {
  const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^\x21-\x7e]/g, '');
  const protocol = session.secure ? 'ESMTPSA' : 'ESMTPA';
  const date = new Date().toUTCString().replace('GMT', '+0000');
  return Buffer.from(`Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${name} (Postern) with ${protocol} id ${session.id};\r\n\t${date}\r\n`);
}

/** The error's code and class for the log; never its full message, which may quote client input. */
function errorSummary(err: unknown): { code?: string; name?: string } {
  const e = err as { code?: unknown; name?: unknown } | null;
  return { code: typeof e?.code === 'string' ? e.code : undefined, name: typeof e?.name === 'string' ? e.name : undefined };
}
