/**
 * What every request carries through the middleware chain: the app's dependencies and, once
 * `loadSession` ran, the session (null for a visitor). Sub-apps type themselves with `Hono<WebEnv>`.
 */
import type { AppContext } from '../src/context.js';
import type { SessionGroup, WebSession } from '../src/auth/web-sessions.js';
import type { StorePool } from './mail/store-pool.js';

/** Who is looking at the page, as far as the layout and the sidebar need to know. */
export interface Viewer {
  session: WebSession;
  /** The business or family the user belongs to, when any. */
  group: SessionGroup | null;
}

export interface WebOptions {
  /**
   * The client address for throttling and the audit log. Default: the socket's remote address from
   * @hono/node-server, or the client a TRUSTED_PROXIES peer names in X-Forwarded-For / Forwarded
   * (web/client-ip.ts; from anyone else those headers are ignored: anyone can send them).
   */
  clientIp?: (req: Request, env: unknown) => string | undefined;
  /** The webmail's store connections (web/mail/store-pool.ts); one is made when not given. */
  mailStore?: StorePool;
}

export interface WebEnv {
  Variables: {
    ctx: AppContext;
    ip: string;
    /** Set by loadSession; null when no valid session cookie came with the request. */
    viewer: Viewer | null;
    /**
     * Runs a request through the whole app (all its guards), as if the browser had sent it: the step-up
     * page uses it to complete the change that waited for the password confirmation.
     */
    dispatch: (req: Request) => Promise<Response>;
  };
}
