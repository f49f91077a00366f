/**
 * A few connections to the store, connected and greeted but not logged in, so that a client's login
 * costs one round trip to the store (ID + AUTHENTICATE) instead of three (connect, greeting, login).
 * On a store that forks a login process per connection (Dovecot's default) the connect and greeting are
 * most of the time a reconnecting client waits.
 *
 * Bounded on purpose: at most POOL_SIZE connections are ready or being made, refills happen only after a
 * login, and a connection kept longer than POOL_MAX_AGE_MS is closed, not replaced. So the pool
 * never multiplies what clients cause (at most one refill per login), and an idle gateway holds nothing
 * open for long. Nothing in a pooled connection is specific to a user: identity, client address (ID) and
 * session all come at login, on the connection's first command.
 */
import { UPSTREAM_POOL_MAX_AGE_MS, UPSTREAM_POOL_SIZE } from './limits.js';
import { type GreetedUpstream, type UpstreamTarget, greetUpstream } from './upstream.js';

export const POOL_SIZE = UPSTREAM_POOL_SIZE;
export const POOL_MAX_AGE_MS = UPSTREAM_POOL_MAX_AGE_MS;

export class UpstreamPool {
  private readonly ready: GreetedUpstream[] = [];
  private connecting = 0;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly target: UpstreamTarget,
    private readonly size = POOL_SIZE,
    private readonly maxAgeMs = POOL_MAX_AGE_MS,
  ) {
    this.sweeper = setInterval(() => this.dropStale(), Math.max(1000, maxAgeMs / 3)).unref();
  }

  /**
   * A greeted connection if one is ready, else null. Call refill() when the login that took it is over:
   * refilling during the login would have the store's login process greet a new connection while it is
   * busy logging this one in, which is what the client is waiting for.
   */
  take(): GreetedUpstream | null {
    this.dropStale();
    return this.ready.shift() ?? null;
  }

  /** Closes every pooled connection; take() returns null from now on. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const g of this.ready.splice(0)) g.socket.destroy();
  }

  /** Tops the pool up in the background (at most to its size; see the class comment). */
  refill(): void {
    while (!this.closed && this.ready.length + this.connecting < this.size) {
      this.connecting++;
      greetUpstream(this.target).then(
        (greeted) => {
          this.connecting--;
          if (this.closed) greeted.socket.destroy();
          else this.ready.push(greeted);
        },
        () => {
          // The store is down: logins find out themselves. No retry from here, so a dead store does not
          // start a loop of reconnects: refill() runs again only after the next login.
          this.connecting--;
        },
      );
    }
  }

  private dropStale(): void {
    const now = performance.now();
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const g = this.ready[i]!;
      if (now - g.greetedAt > this.maxAgeMs || !g.lines.quiet) {
        g.socket.destroy();
        this.ready.splice(i, 1);
      }
    }
  }
}
