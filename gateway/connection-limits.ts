/**
 * Connection caps for a listener: in total and per client address (IPv6: per /64), so one client, or a
 * flood of them, cannot use up the process's file descriptors and take the other fronts down with it
 * (issue #11: 20,500 idle connections stopped IMAP, SMTP and the web together). Refusals are logged once
 * per interval as a summary, never once per connection: a flood must not become a flood of log lines.
 */
import { throttleAddress } from '../src/auth/throttle.js';
import type { Logger } from 'pino';

/** How often refused connections are summed up in the log. */
export const FLOOD_LOG_INTERVAL_MS = 10_000;

export interface ConnectionCaps {
  total: number;
  perAddress: number;
}

export class ConnectionLimiter {
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  private refused = 0;
  private readonly refusedFrom = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly listener: string,
    readonly caps: ConnectionCaps,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.report(), FLOOD_LOG_INTERVAL_MS);
    this.timer.unref();
  }

  /** Takes a place for a new connection; false when a cap is reached (refuse it). Call release() once when it closes. */
  admit(ip: string): boolean {
    const address = throttleAddress(ip);
    const mine = this.byAddress.get(address) ?? 0;
    if (this.open >= this.caps.total || mine >= this.caps.perAddress) {
      this.refused++;
      // Bounded: a summary needs the number of addresses, not the whole of a large botnet's.
      if (this.refusedFrom.size < 100_000) this.refusedFrom.add(address);
      return false;
    }
    this.open++;
    this.byAddress.set(address, mine + 1);
    return true;
  }

  release(ip: string): void {
    const address = throttleAddress(ip);
    const mine = this.byAddress.get(address) ?? 0;
    if (mine <= 0) return;
    this.open--;
    if (mine === 1) this.byAddress.delete(address);
    else this.byAddress.set(address, mine - 1);
  }

  get openConnections(): number {
    return this.open;
  }

  close(): void {
    this.report();
    clearInterval(this.timer);
  }

  private report(): void {
    if (this.refused === 0) return;
    this.log.warn(
      { code: 'CONNECTIONS_REFUSED', listener: this.listener, refused: this.refused, addresses: this.refusedFrom.size, open: this.open, caps: this.caps },
      `refused ${this.refused} ${this.listener} connections from ${this.refusedFrom.size} addresses in the last ${FLOOD_LOG_INTERVAL_MS / 1000} s`,
    );
    this.refused = 0;
    this.refusedFrom.clear();
  }
}
