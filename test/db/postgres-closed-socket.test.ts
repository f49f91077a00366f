/**
 * postgres.js 3.4.9 schedules small writes with setImmediate; when the connection closes before the
 * write runs, the unpatched driver calls `null.write` inside the timer, an exception no caller can catch,
 * and the whole `postern serve` process dies (porsager/postgres#1154, #1208). We carry a patch
 * (patches/postgres+3.4.9.patch, applied by `npm install`): the pending query fails with
 * CONNECTION_CLOSED instead, and the pool connects afresh for the next one.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js';

const target = { host: '127.0.0.1', port: 5432 };
let gate: TcpGate;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  gate = await startTcpGate(target);
  process.on('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await gate?.close();
});

describe('a query on a connection the database has just dropped', () => {
  it('fails with CONNECTION_CLOSED and leaves the process and the pool working', async () => {
    const sql = postgres(`postgres://postgres@127.0.0.1:${gate.port}/postgres`, { max: 2, onnotice: () => {} });
    try {
      // A reserved connection cannot be rotated away by the pool: its next query goes to the dead socket.
      const reserved = await sql.reserve();
      expect(await reserved`select 1 as one`).toEqual([{ one: 1 }]);
      await gate.cut();
      await new Promise((r) => setTimeout(r, 50)); // the driver sees the close
      let failure = 'answered';
      try {
        await reserved`select 2 as two`;
      } catch (err) {
        failure = (err as { code?: string }).code ?? String(err);
      }
      expect(failure).toBe('CONNECTION_CLOSED');
      await new Promise((r) => setTimeout(r, 20));
      expect(uncaught).toEqual([]);

      await gate.restore();
      expect(await sql`select 3 as three`).toEqual([{ three: 3 }]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
