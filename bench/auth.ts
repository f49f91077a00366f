/**
 * Authentication benchmark (run by hand: `npx tsx bench/auth.ts`; not part of npm test).
 * In-process `authenticate` calls at PRODUCTION argon2 cost (RFC 9106 second recommendation: 64 MiB, t=3,
 * p=4), one after another, on the embedded database (or PostgreSQL when DATABASE_URL is set). For each
 * path it prints logins per second and argon2 verifications per login, counted by wrapping ctx.hasher.
 * Throttle counters are cleared between failed attempts (outside the timed section) so the failure path is
 * measured, not the throttle's refusal.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAppPassword, createOneTimeList } from '../src/accounts/alt-logins.js';
import { createUser } from '../src/accounts/users.js';
import { authenticate } from '../src/auth/authenticate.js';
import { warmDummyHash } from '../src/auth/dummy-verify.js';
import { PRODUCTION_ARGON2, PasswordHasher } from '../src/auth/passwords.js';
import type { AuthRequest } from '../src/auth/types.js';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { throttle } from '../src/db/schema.js';
import { createTestDatabase } from '../test/helpers/database.js';

class CountingHasher extends PasswordHasher {
  verifications = 0;
  override async verify(hash: string, password: string): Promise<boolean> {
    this.verifications++;
    return super.verify(hash, password);
  }
}

interface Row {
  path: string;
  logins: number;
  perSecond: number;
  msPerLogin: number;
  argon2PerLogin: number;
}

async function measure(
  ctx: AppContext & { hasher: CountingHasher },
  label: string,
  count: number,
  request: (i: number) => AuthRequest,
  expectOk: boolean,
  between?: () => Promise<void>,
): Promise<Row> {
  let elapsed = 0n;
  const before = ctx.hasher.verifications;
  for (let i = 0; i < count; i++) {
    if (between) await between();
    const start = process.hrtime.bigint();
    const result = await authenticate(ctx, request(i));
    elapsed += process.hrtime.bigint() - start;
    if (result.ok !== expectOk) throw new Error(`${label}: unexpected result ${JSON.stringify(result)}`);
  }
  const seconds = Number(elapsed) / 1e9;
  return {
    path: label,
    logins: count,
    perSecond: Math.round(count / seconds),
    msPerLogin: Number(((seconds * 1000) / count).toFixed(3)),
    argon2PerLogin: (ctx.hasher.verifications - before) / count,
  };
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-auth-'));
  // A fresh database (created and dropped on PostgreSQL when DATABASE_URL is set), never the one named.
  const scratch = await createTestDatabase();
  const database = scratch.database;
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'development' });
  const base = await createContext(config, { database, secretKey: crypto.randomBytes(32) });
  const ctx = { ...base, hasher: new CountingHasher(PRODUCTION_ARGON2) };
  await warmDummyHash(ctx.hasher);

  const user = await createUser(ctx, { username: 'bench', password: 'bench main password' });
  const { secret: app } = await createAppPassword(ctx, { userId: user.id });
  const { codes } = await createOneTimeList(ctx, { userId: user.id, count: 1000, services: ['web', 'imap'] });
  const clearThrottle = async () => void (await ctx.db.delete(throttle));

  const rows: Row[] = [];
  rows.push(await measure(ctx, 'main password (web)', 20, () => ({ username: 'bench', secret: 'bench main password', service: 'web', ip: '10.0.0.1' }), true));
  // A new client address each time: the cache key includes the address, so every call is a miss.
  rows.push(await measure(ctx, 'app password, cold (imap)', 500, (i) => ({ username: 'bench', secret: app, service: 'imap', ip: `10.1.${i >> 8}.${i & 255}` }), true));
  await authenticate(ctx, { username: 'bench', secret: app, service: 'imap', ip: '10.2.0.1' });
  rows.push(await measure(ctx, 'app password, cached (imap)', 100_000, () => ({ username: 'bench', secret: app, service: 'imap', ip: '10.2.0.1' }), true));
  rows.push(await measure(ctx, 'one-time code (web)', 500, (i) => ({ username: 'bench', secret: codes[i]!.code, service: 'web', ip: '10.3.0.1' }), true));
  rows.push(
    await measure(ctx, 'failed login, wrong password', 20, () => ({ username: 'bench', secret: 'not the password', service: 'web', ip: '10.4.0.1' }), false, clearThrottle),
  );
  rows.push(
    await measure(ctx, 'failed login, unknown user', 20, (i) => ({ username: `ghost${i}`, secret: 'not the password', service: 'web', ip: '10.5.0.1' }), false, clearThrottle),
  );

  console.log(`Postern auth benchmark — ${database.driver}, argon2id m=${PRODUCTION_ARGON2.memoryCost} KiB t=${PRODUCTION_ARGON2.timeCost} p=${PRODUCTION_ARGON2.parallelism}, ${os.cpus().length} cores, sequential calls`);
  console.table(rows);
  const cached = rows.find((r) => r.path.startsWith('app password, cached'))!;
  const ok = cached.argon2PerLogin === 0 && cached.perSecond >= 10_000;
  console.log(`cached app-password path: ${cached.perSecond}/s, ${cached.argon2PerLogin} argon2 per login → ${ok ? 'meets' : 'MISSES'} the ≥10,000/s, 0-argon2 target`);
  await scratch.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
}

await main();
