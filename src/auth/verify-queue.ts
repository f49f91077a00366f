/**
 * A fair queue for password verifications (argon2: ~130 ms of a core and 64 MiB each at production cost),
 * so a flood of junk logins cannot starve the owner's (issue #11: 150 concurrent junk logins queued 150
 * verifications and the real user's login timed out behind them).
 *
 *  - at most `concurrent` attempts verify at once (about one per core);
 *  - at most `perAddress` attempts of one client address (IPv6: its /64) are admitted, running or waiting;
 *  - at most `maxWaiting` attempts wait; beyond that an attempt is refused at once, without verifying, and
 *    the client is told to try again (`busy`);
 *  - waiting attempts are served round-robin by address, so one address's burst waits behind itself only;
 *  - attempts from an address the account logged in from before (`known`) are served first and have a
 *    small reserve of their own beyond `maxWaiting`, so a botnet filling the queue does not lock the
 *    owner's phone out.
 *
 * One queue per password hasher (that is, per process), since the hasher is the resource it shares out.
 */
import type { AppContext } from '../context.js';
import type { PasswordHasher } from './passwords.js';
import { throttleAddress } from './throttle.js';

export interface VerifyQueueLimits {
  concurrent: number;
  perAddress: number;
  maxWaiting: number;
}

/** Extra waiting places for known addresses, beyond maxWaiting. */
export const KNOWN_ADDRESS_RESERVE = 16;

/** An admitted attempt: wait for `turn()`, verify, then `done()` (also when it ends before its turn). */
export interface VerifyTicket {
  turn(): Promise<void>;
  done(): void;
}

export class VerifyQueue {
  private running = 0;
  private waitingCount = 0;
  /** Admitted and not done: running, waiting, or not yet asking for a turn. */
  private total = 0;
  private readonly admitted = new Map<string, number>();
  /** Waiting attempts by address; Map order is the round-robin order. */
  private readonly waitingKnown = new Map<string, Array<() => void>>();
  private readonly waitingOther = new Map<string, Array<() => void>>();

  constructor(readonly limits: VerifyQueueLimits) {}

  /**
   * Whether an attempt from `ip` would be refused whoever it is for: checked before any database work, so
   * a flood from one address costs memory operations only.
   */
  full(ip: string): boolean {
    const places = this.limits.concurrent + this.limits.maxWaiting + KNOWN_ADDRESS_RESERVE;
    return (this.admitted.get(throttleAddress(ip)) ?? 0) >= this.limits.perAddress || this.total >= places;
  }

  /** A ticket, or null when this address or the whole queue is full: answer "try again" without verifying. */
  admit(ip: string, known = false): VerifyTicket | null {
    const address = throttleAddress(ip);
    const mine = this.admitted.get(address) ?? 0;
    if (mine >= this.limits.perAddress) return null;
    // Admitted attempts still looking up their account count as waiting: they will verify soon.
    const places = this.limits.concurrent + this.limits.maxWaiting + (known ? KNOWN_ADDRESS_RESERVE : 0);
    if (this.total >= places) return null;
    this.admitted.set(address, mine + 1);
    this.total++;

    let state: 'admitted' | 'waiting' | 'running' | 'done' = 'admitted';
    let wake: (() => void) | null = null;
    const turn = (): Promise<void> => {
      if (state !== 'admitted') return Promise.resolve();
      if (this.running < this.limits.concurrent) {
        state = 'running';
        this.running++;
        return Promise.resolve();
      }
      state = 'waiting';
      this.waitingCount++;
      return new Promise<void>((resolve) => {
        wake = () => {
          state = 'running';
          resolve();
        };
        const lanes = known ? this.waitingKnown : this.waitingOther;
        const line = lanes.get(address);
        if (line) line.push(wake);
        else lanes.set(address, [wake]);
      });
    };
    const done = () => {
      if (state === 'done') return;
      const wasRunning = state === 'running';
      if (state === 'waiting' && wake) this.forget(wake, address, known);
      state = 'done';
      this.total--;
      const left = (this.admitted.get(address) ?? 1) - 1;
      if (left > 0) this.admitted.set(address, left);
      else this.admitted.delete(address);
      if (wasRunning) {
        this.running--;
        this.next();
      }
    };
    return { turn, done };
  }

  /** Attempts verifying now and waiting (for tests and the flood log). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }

  private next(): void {
    while (this.running < this.limits.concurrent) {
      const wake = this.shift(this.waitingKnown) ?? this.shift(this.waitingOther);
      if (!wake) return;
      this.waitingCount--;
      this.running++;
      wake();
    }
  }

  /** The first waiter of the first address, which then goes to the back of the round. */
  private shift(lanes: Map<string, Array<() => void>>): (() => void) | null {
    for (const [address, line] of lanes) {
      const wake = line.shift()!;
      lanes.delete(address);
      if (line.length) lanes.set(address, line);
      return wake;
    }
    return null;
  }

  private forget(wake: () => void, address: string, known: boolean): void {
    const lanes = known ? this.waitingKnown : this.waitingOther;
    const line = lanes.get(address);
    const i = line?.indexOf(wake) ?? -1;
    if (!line || i < 0) return;
    line.splice(i, 1);
    if (!line.length) lanes.delete(address);
    this.waitingCount--;
  }
}

const queues = new WeakMap<PasswordHasher, VerifyQueue>();

/** The process's queue (one per hasher), sized by AUTH_VERIFY_* settings. */
export function getVerifyQueue(ctx: AppContext): VerifyQueue {
  let queue = queues.get(ctx.hasher);
  if (!queue) {
    const c = ctx.config;
    queue = new VerifyQueue({ concurrent: c.AUTH_VERIFY_CONCURRENCY, perAddress: c.AUTH_VERIFY_PER_ADDRESS, maxWaiting: c.AUTH_VERIFY_QUEUE });
    queues.set(ctx.hasher, queue);
  }
  return queue;
}
