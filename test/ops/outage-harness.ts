/**
 * Postern against a private PostgreSQL reached through a TCP gate the test can cut (test/helpers/), with
 * the web app and a real IMAP gateway in front of the test Dovecot.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import postgres from 'postgres';
import { startImapGateway, type RunningImapGateway } from '../../gateway/imap/server.js';
import { createContext, type AppContext } from '../../src/context.js';
import { createWebApp } from '../../web/app.js';
import { testConfig, type TestContext } from '../helpers/context.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js';
import type { WebHarness } from '../web/harness.js';

export interface OutageServer {
  pg: PrivatePostgres;
  /** URL of Postern's database, direct (not through the gate). */
  directUrl: string;
  gate: TcpGate;
  /** The instance under test: every connection it makes to PostgreSQL goes through the gate. */
  ctx: AppContext;
  web: WebHarness;
  imap: RunningImapGateway;
  /** The instance's SECRET_KEY, for a second instance that must hash secrets the same way. */
  secretKey: Buffer;
  close(): Promise<void>;
}

export async function startOutageServer(env: Record<string, string> = {}): Promise<OutageServer> {
  const pg = await startPrivatePostgres();
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  await admin.unsafe('CREATE DATABASE postern');
  await admin.end();
  const gate = await startTcpGate({ host: '127.0.0.1', port: pg.port });
  const config = testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${gate.port}/postern`, DATABASE_CONNECT_TIMEOUT_MS: '500', ...env });
  const secretKey = crypto.randomBytes(32);
  const ctx = await createContext(config, { secretKey });
  const app = createWebApp(ctx, { clientIp: (req) => req.headers.get('x-test-client-ip') ?? undefined });
  const web: WebHarness = { ctx: ctx as TestContext, app, close: async () => {} };
  const imap = await startImapGateway(ctx, { host: '127.0.0.1', port: 0 });
  return {
    pg,
    directUrl: `postgres://postgres@127.0.0.1:${pg.port}/postern`,
    gate,
    ctx,
    web,
    imap,
    secretKey,
    async close() {
      await imap.close();
      await ctx.database.close();
      await gate.close();
      await pg.stop();
      fs.rmSync(config.DATA_DIR, { recursive: true, force: true });
    },
  };
}

/** Milliseconds `fn` took, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Retries `fn` until it returns true or `timeoutMs` passes; returns how long it took. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await fn().catch(() => false)) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
