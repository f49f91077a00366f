/**
 * The SMTP submission listener (RFC 6409) on SMTP_PORT, built on smtp-server. smtp-server owns framing,
 * pipelining, STARTTLS (and discarding what was pipelined before it) and SASL; this file only plugs
 * Postern's rules into its hooks:
 *   connect/secure → which commands this connection may use (transport-security.ts)
 *   AUTH           → authenticate(service 'smtp'); PLAIN and LOGIN only
 *   MAIL FROM      → authenticated, and only an address the user owns (src/accounts/addresses.ts)
 *   RCPT TO        → at most MAX_RECIPIENTS
 *   DATA           → streamed to the upstream MTA (relay.ts) under MAX_MESSAGE_SIZE
 * The authenticator is a parameter so the reply mapping can be tested for outcomes that are hard to
 * provoke through the real core (throttling, SMS provider down); server.ts passes the real one.
 */
import os from 'node:os';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../../src/context.js';
import type { AuthRequest, AuthResult, AuthSuccess } from '../../src/auth/types.js';
import { createRelayStream } from './message-stream.js';
import { relayMessage, type UpstreamSmtp } from './relay.js';
import { replies, replyForAuthFailure, SmtpReply } from './replies.js';
import { looksLikeAddress, normalizeAddress, ownsAddress } from '../../src/accounts/addresses.js';
import { isLoopbackAddress } from '../loopback.js';
import { disabledCommandsFor } from './transport-security.js';
import { ConnectionLimiter, type ConnectionCaps } from '../connection-limits.js';

export type Authenticator = (ctx: AppContext, request: AuthRequest) => Promise<AuthResult>;

export interface SubmissionOptions {
  host: string;
  port: number;
  /** PEM key and certificate: STARTTLS is offered only when these are given. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Where accepted mail goes. */
  upstream: UpstreamSmtp;
  /** How long close() lets a client finish its current message before cutting it off. */
  closeTimeoutMs?: number;
  /**
   * May a password travel without TLS on a connection that arrived at this local address? Default: only
   * on loopback. Tests inject `() => false` to exercise the network-address rules on a loopback listener.
   */
  plaintextAuthAllowed?: (localAddress: string | undefined) => boolean;
  /** Default SMTP_MAX_CONNECTIONS[_PER_ADDRESS]. */
  connectionCaps?: ConnectionCaps;
}

export interface RunningSubmission {
  port: number;
  close(): Promise<void>;
}

/** A message lists at most this many recipients; more is what a spammer with a stolen login does. */
export const MAX_RECIPIENTS = 100;
/** Wrong logins one connection may make before it is closed: guessing must reconnect (and meet the throttle). */
export const MAX_AUTH_FAILURES_PER_CONNECTION = 3;
/** RFC 5321 §4.5.3.2 asks servers to wait at least 5 minutes for the client's next command. */
const IDLE_TIMEOUT_MS = 5 * 60_000;

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

  const onAuth = (auth: SMTPServerAuthentication, session: Session, done: (err?: Error | null, res?: { user: AuthSuccess }) => void) => {
    // Defence in depth: AUTH is already hidden on such connections (transport-security.ts).
    if (!session.secure && !plaintextAllowed(session.localAddress)) return done(replies.authFailed());
    // The gateway logs in upstream as the authenticated user only; acting for someone else is refused.
    if (auth.authzid && auth.authcid && normalizeAddress(auth.authzid) !== normalizeAddress(auth.authcid))
      return done(replies.authzidRefused());
    const ip = session.remoteAddress;
    authenticate(ctx, { username: auth.username ?? '', secret: auth.password ?? '', service: 'smtp', ip }).then(
      (result) => {
        if (result.ok) return done(null, { user: result });
        log.info({ code: 'SMTP_AUTH_FAILED', reason: result.reason, ip }, 'smtp authentication refused');
        session.authFailures = (session.authFailures ?? 0) + 1;
        // smtp-server closes the connection after a 421.
        if (result.reason === 'failed' && session.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION) return done(replies.tooManyAuthFailures());
        done(replyForAuthFailure(result));
      },
      (err: unknown) => {
        log.error({ code: 'SMTP_AUTH_ERROR', err: errorSummary(err), ip }, 'smtp authentication crashed');
        done(replies.authUnavailable());
      },
    );
  };

  const onMailFrom = (address: { address: string }, session: Session, done: (err?: Error | null) => void) => {
    const user = session.user;
    if (!user) return done(replies.authRequired());
    const from = address.address ?? '';
    if (!from) return done(replies.nullSenderRefused());
    if (!looksLikeAddress(from)) return done(replies.senderNotOwned(from));
    ownsAddress(ctx, user.userId, from).then(
      (owned) => {
        if (owned) return done();
        log.warn({ code: 'SMTP_SENDER_REFUSED', userId: user.userId, loginId: user.loginId }, 'sender address not owned');
        done(replies.senderNotOwned(from));
      },
      (err: unknown) => {
        log.error({ code: 'SMTP_SENDER_CHECK_ERROR', err: errorSummary(err) }, 'sender check failed');
        done(replies.internal());
      },
    );
  };

  const onRcptTo = (_address: unknown, session: Session, done: (err?: Error | null) => void) => {
    if (!session.user) return done(replies.authRequired());
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return done(replies.tooManyRecipients(MAX_RECIPIENTS));
    done();
  };

  const onData = (stream: NodeJS.ReadableStream & import('node:stream').Readable, session: Session, done: (err?: Error | null, message?: string) => void) => {
    const user = session.user;
    if (!user || !session.envelope.mailFrom) return done(replies.authRequired());
    const from = session.envelope.mailFrom.address;
    const to = session.envelope.rcptTo.map((r) => r.address);
    const declared = Number(session.envelope.mailFrom.args && (session.envelope.mailFrom.args as Record<string, string>).SIZE);
    const relayStream = createRelayStream(stream, { maxBytes, prefix: receivedHeader(session, name) });
    relayMessage(options.upstream, { from, to, size: Number.isFinite(declared) && declared > 0 ? declared : undefined }, relayStream.readable, { name }).then(
      (result) => {
        log.info(
          { code: 'SMTP_RELAYED', userId: user.userId, loginId: user.loginId, recipients: result.accepted.length, refused: result.rejected.length, bytes: relayStream.bytes },
          'message relayed upstream',
        );
        if (!result.rejected.length) return done(null, '2.0.0 Message accepted for delivery');
        // The upstream took the message for some recipients only. Failing now would make the client send it
        // again to everyone; accepting is honest only if we say who was refused.
        const refused = result.rejected.map((r) => `${r.address} (${r.responseCode ?? 'refused'})`).join(', ');
        done(null, `2.0.0 Accepted for ${result.accepted.length} recipient(s); refused by the outgoing server: ${refused}`);
      },
      (err: unknown) => {
        relayStream.abort();
        const reply = err instanceof SmtpReply ? err : replies.internal();
        log.warn(
          { code: 'SMTP_RELAY_FAILED', userId: user.userId, reply: reply.responseCode, err: errorSummary(err) },
          'message not relayed',
        );
        done(reply);
      },
    );
  };

  const server = new SMTPServer({
    name,
    banner: 'Postern ESMTP submission',
    authMethods: ['PLAIN', 'LOGIN'],
    // Plaintext AUTH is decided per connection (onConnect), where the local address is known.
    allowInsecureAuth: true,
    authRequiredMessage: '5.7.0 Authentication required',
    size: maxBytes,
    rejectOversized: true,
    disabledCommands: tlsAvailable ? [] : ['STARTTLS'],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    socketTimeout: IDLE_TIMEOUT_MS,
    closeTimeout: options.closeTimeoutMs ?? 10_000,
    // smtp-server's own log would repeat usernames and addresses; ours carries codes and ids.
    logger: false,
    maxClients: caps.total,
    onConnect(session, done) {
      if (!limiter.admit(session.remoteAddress)) return done(replies.tooManyConnections());
      admitted.add(session.id);
      session.disabledCommands = disabledCommandsFor({ tlsAvailable, secure: false, plaintextAllowed: plaintextAllowed(session.localAddress) });
      done();
    },
    onSecure(_socket, session, done) {
      session.disabledCommands = disabledCommandsFor({ tlsAvailable, secure: true, plaintextAllowed: plaintextAllowed(session.localAddress) });
      done();
    },
    onClose(session) {
      if (admitted.delete(session.id)) limiter.release(session.remoteAddress);
    },
    onAuth,
    onMailFrom,
    onRcptTo,
    onData,
  });
  server.on('error', (err) => log.warn({ code: 'SMTP_CONNECTION_ERROR', err: errorSummary(err) }, 'smtp connection error'));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as { port: number }).port;
  log.info({ host: options.host, port, starttls: tlsAvailable }, 'smtp submission listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        limiter.close();
        server.close(() => resolve());
      }),
  };
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
