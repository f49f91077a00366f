/**
 * What every connection of one IMAP listener shares (server.ts builds it once per listener): the
 * context, how logins are decided, TLS, the timeouts and limits, and the store-side pools.
 */
import type tls from 'node:tls';
import type { AuthRequest, AuthResult } from '../../src/auth/types.js';
import type { AppContext } from '../../src/context.js';
import type { UpstreamSessionCache } from './session-cache.js';
import type { UpstreamPool } from './upstream-pool.js';

/** The accounts core's login decision (src/auth/authenticate.ts); injectable for tests of odd outcomes. */
export type Authenticator = (ctx: AppContext, req: AuthRequest) => Promise<AuthResult>;

/** What every connection of one listener shares. */
export interface ConnectionSettings {
  ctx: AppContext;
  authenticate: Authenticator;
  /** For STARTTLS; null when no certificate is configured. */
  tlsContext: tls.SecureContext | null;
  /** Whether a password may be sent in the clear to this local address (default: loopback only). */
  plaintextLoginAllowed: (localAddress: string | undefined) => boolean;
  unauthenticatedTimeoutMs: number;
  /** Time to log in from connecting, not reset by traffic (pre-login-deadline.ts). */
  preLoginDeadlineMs: number;
  authenticatedTimeoutMs: number;
  maxMessageSize: number;
  /** Greeted store connections for logins; null when no store is configured. */
  upstreamPool: UpstreamPool | null;
  /** Store sessions parked at logout for the same user's next login; null when reuse is off. */
  sessionCache: UpstreamSessionCache | null;
}
