import { describe, expect, it } from 'vitest';
import { KNOWN_ADDRESS_RESERVE, VerifyQueue } from '../../../src/auth/verify-queue.js';

/** Starts an attempt through the queue; `order` records when each one got its turn. */
function start(queue: VerifyQueue, ip: string, name: string, order: string[], known = false) {
  const ticket = queue.admit(ip, known);
  if (!ticket) return null;
  const turn = ticket.turn().then(() => order.push(name));
  return { ticket, turn };
}

describe('verification queue', () => {
  it('runs at most `concurrent` at once and refuses beyond the waiting bound at once', () => {
    const queue = new VerifyQueue({ concurrent: 2, perAddress: 100, maxWaiting: 3 });
    const order: string[] = [];
    const admitted = Array.from({ length: 10 }, (_, i) => start(queue, `192.0.2.${i}`, `a${i}`, order));
    expect(admitted.filter(Boolean)).toHaveLength(5);
    expect(queue.load).toEqual({ running: 2, waiting: 3 });
  });

  it('admits only a few attempts per address', () => {
    const queue = new VerifyQueue({ concurrent: 2, perAddress: 4, maxWaiting: 100 });
    const order: string[] = [];
    const burst = Array.from({ length: 150 }, (_, i) => start(queue, '203.0.113.5', `junk${i}`, order));
    expect(burst.filter(Boolean)).toHaveLength(4);
    expect(start(queue, '198.51.100.2', 'owner', order)).not.toBeNull();
    // IPv6: one /64 is one address.
    expect([1, 2, 3, 4, 5].map((i) => start(queue, `2001:db8:1:2::${i}`, `v6-${i}`, order)).filter(Boolean)).toHaveLength(4);
  });

  it('serves waiting addresses round-robin, known addresses first', async () => {
    const queue = new VerifyQueue({ concurrent: 1, perAddress: 10, maxWaiting: 100 });
    const order: string[] = [];
    const started = new Map<string, () => void>();
    const enqueue = (ip: string, name: string, known = false) => {
      const ticket = queue.admit(ip, known)!;
      void ticket.turn().then(() => {
        order.push(name);
        started.set(name, ticket.done);
      });
    };
    for (let i = 0; i < 4; i++) enqueue('203.0.113.5', `A${i}`);
    enqueue('198.51.100.7', 'B');
    enqueue('198.51.100.2', 'K', true);
    // Finish whichever attempt is running, one at a time.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1));
      started.get(order[i]!)!();
    }
    expect(order).toEqual(['A0', 'K', 'A1', 'B', 'A2', 'A3']);
  });

  it('gives known addresses a reserve beyond a full queue', () => {
    const queue = new VerifyQueue({ concurrent: 1, perAddress: 1, maxWaiting: 2 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) expect(start(queue, `100.64.0.${i}`, `bot${i}`, order)).not.toBeNull();
    expect(start(queue, '100.64.1.1', 'stranger', order)).toBeNull();
    expect(start(queue, '198.51.100.2', 'owner', order, true)).not.toBeNull();
    expect(KNOWN_ADDRESS_RESERVE).toBeGreaterThan(0);
  });

  it('a ticket given up before its turn frees its place', () => {
    const queue = new VerifyQueue({ concurrent: 1, perAddress: 1, maxWaiting: 0 });
    const first = queue.admit('192.0.2.1')!;
    expect(queue.admit('192.0.2.2')).toBeNull();
    first.done();
    expect(queue.admit('192.0.2.2')).not.toBeNull();
  });
});

