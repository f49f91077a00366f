/**
 * A PostgreSQL server of the test's own: initdb into a temp dir (as the `postgres` OS user when the tests run
 * as root, since PostgreSQL refuses to run as root), its own port, its own process group, stopped by PID.
 * Outage tests stop and cut this one; the machine's PostgreSQL on 5432 is never touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PrivatePostgres {
  port: number;
  /** URL of database `postgres` on this server. */
  url: string;
  stop(): Promise<void>;
}

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

function binary(name: string): string {
  for (const dir of BIN_DIRS) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  return name;
}

function postgresOsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** initdb + start; resolves when the server accepts connections. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const owner = postgresOsUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-pg-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  if (owner) {
    fs.chownSync(dir, owner.uid, owner.gid);
    fs.chownSync(dataDir, owner.uid, owner.gid);
  }
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  execFileSync(binary('initdb'), ['-D', dataDir, '--username=postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], {
    ...asOwner,
    stdio: 'ignore',
  });
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary('postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100'],
    { ...asOwner, detached: true, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 20_000);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      // SIGINT = PostgreSQL's fast shutdown; by PID, never by name.
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) {
      // Accepting TCP is not yet accepting logins; give the startup a moment.
      await new Promise((r) => setTimeout(r, 300));
      return;
    }
    if (Date.now() > deadline) throw new Error(`private PostgreSQL did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
