/**
 * Logging a client in: the accounts core decides (service `imap`, shared throttling), then the gateway
 * opens the store session as the master user on the user's behalf (upstream.ts). Only then does the
 * client get its tagged OK, carrying the store's capabilities filtered for this session.
 */
import type { AuthSuccess } from '../../src/auth/types.js';
import { timeUpstreamLogin } from '../../src/metrics/record.js';
import { storeIdentity } from '../../src/upstream/store-identity.js';
import { filterCapabilities } from './capability-filter.js';
import type { ImapConnection } from './connection.js';
import { loginReplies, replyForAuthFailure } from './auth-replies.js';
import { Relay } from './relay.js';
import { ownedBy, sessionKey } from './session-cache.js';
import { UpstreamError, openUpstream } from './upstream.js';
import { clientNameOf } from './client-id.js';

/**
 * Dovecot's master-user separator and the SASL separator: a name containing either could make the
 * store read "user*master" or a second field. The accounts core refuses such names; checked again
 * here because this is where they would do harm.
 */
const UNSAFE_NAME = /[*\0\r\n]/;

/** The login facts the live-session registry keeps (src/sessions/). */
function liveFacts(result: AuthSuccess) {
  const { userId, loginId, method: loginKind, restricted, validUntil, passwordChangedAt } = result;
  return { userId, loginId, loginKind, restricted, validUntil, passwordChangedAt };
}

/** Runs LOGIN / AUTHENTICATE PLAIN to the end; the connection waits meanwhile. */
export function logIn(conn: ImapConnection, tag: string, username: string, secret: string): void {
  conn.wait();
  attemptLogin(conn, tag, username, secret).then(
    (line) => {
      if (conn.isClosed) return;
      if (line) conn.reply(tag, line);
      conn.proceed();
    },
    (error: unknown) => {
      conn.ctx.log.error({ err: error }, 'imap login failed');
      if (conn.isClosed) return;
      conn.reply(tag, loginReplies.authUnavailable);
      conn.proceed();
    },
  );
}

/** The tagged answer (without tag), or null when the session began and the OK was written. */
async function attemptLogin(conn: ImapConnection, tag: string, username: string, secret: string): Promise<string | null> {
  const { ctx } = conn;
  if (username === '' || UNSAFE_NAME.test(username)) return loginReplies.failed;
  const authStartedAt = new Date();
  const client = clientNameOf(conn);
  const result = await conn.settings.authenticate(ctx, { username, secret, service: 'imap', ip: conn.remoteIp, ...(client ? { client } : {}) });
  if (!result.ok) return replyForAuthFailure(result);
  if (UNSAFE_NAME.test(result.upstreamUser)) return loginReplies.failed;

  const identity = storeIdentity(ctx.config, { mailbox: result.upstreamUser, restricted: result.restricted });
  if (!identity) return loginReplies.upstreamDown;
  if (conn.isClosed) return null;
  // Registered before the store login, so that its database check runs while the store logs in; the
  // OK still waits for it. A change that races the login is caught as before: its NOTIFY ends the entry
  // from here on, and the check (begun after registering) sees anything committed earlier.
  const facts = { ...liveFacts(result), ...(client ? { client } : {}), startedAt: new Date(), authStartedAt };
  const checked = conn.trackLiveSession(facts);
  const { host, port, tls, ...login } = identity;
  const target = { host, port, tls };
  const { upstreamPool: pool, sessionCache } = conn.settings;
  const parkKey = sessionCache ? sessionKey(target, login, result.restricted, conn.remoteIp) : null;
  let session = parkKey ? await sessionCache!.takeSettled(parkKey) : null;
  if (!session) {
    try {
      const timed = timeUpstreamLogin('imap');
      session = await openUpstream(target, login, conn.remoteIp, undefined, pool?.take() ?? null).then(
        (opened) => (timed('ok'), opened),
        (error: unknown) => {
          timed('failed');
          throw error;
        },
      );
    } catch (error) {
      const code = error instanceof UpstreamError ? error.code : 'UPSTREAM_UNREACHABLE';
      ctx.log.warn({ code, userId: result.userId }, 'imap upstream login failed');
      conn.forgetLiveSession();
      return loginReplies.upstreamDown;
    } finally {
      pool?.refill();
    }
  }
  if (conn.isClosed) {
    session.socket.destroy();
    return null;
  }
  const relay = new Relay(conn, session, result, parkKey);
  conn.beginSession(relay);
  // Confirmed before the OK: a login revoked while it was being verified never runs a command.
  // Parked later, the store session still ends with this login (session-cache.ts).
  if (sessionCache) ownedBy(session.socket, ctx.liveSessions, { ...facts, protocol: 'imap', clientIp: conn.remoteIp });
  await checked;
  if (conn.isClosed) return null;
  const caps = filterCapabilities(session.capabilities, { maxMessageSize: conn.settings.maxMessageSize, restricted: result.restricted });
  conn.reply(tag, `OK [CAPABILITY ${caps.join(' ')}] Logged in${result.restricted ? ' (restricted: nothing can be deleted)' : ''}`);
  relay.start(session.leftover);
  return null;
}
