/**
 * The time a client has to log in, counted from connecting: an absolute deadline, not an idle timer, so
 * one byte every 40 s no longer keeps an unauthenticated connection open for ever (issue #11). While the
 * gateway itself is verifying a login the clock stops: waiting for our own verification queue is not the
 * client's time.
 */
export class PreLoginDeadline {
  private timer: NodeJS.Timeout | null = null;
  private leftMs: number;
  private startedAt = 0;
  private stopped = false;

  constructor(
    budgetMs: number,
    private readonly onExpired: () => void,
  ) {
    this.leftMs = budgetMs;
    this.run();
  }

  /** A login is being verified: stop the clock. */
  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.leftMs -= Date.now() - this.startedAt;
  }

  /** The verification is over (and failed): the clock runs on from where it stopped. */
  resume(): void {
    if (!this.timer && !this.stopped) this.run();
  }

  /** Logged in or closed. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stopped = true;
      this.onExpired();
    }, Math.max(0, this.leftMs));
    this.timer.unref();
  }
}
