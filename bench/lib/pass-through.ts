/**
 * The floor a relay cannot beat: a process that copies bytes between the client and the store and does
 * nothing else (no parsing, no policy). bench/imap.ts measures it beside Dovecot and Postern, so a ratio
 * can be read as "what any extra hop costs on this machine" plus "what Postern itself adds".
 *
 * Two relays: this one in Node (the gateway's own runtime), and haproxy in TCP mode when it is
 * installed (a tuned C relay: what the best case of a separate process looks like).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface RunningRelay {
  name: string;
  port: number;
  pid: number;
  stop(): void;
}

/** Runs in the child: relays every connection on a free loopback port to the store. */
function serve(storePort: number): void {
  const server = net.createServer({ noDelay: true }, (client) => {
    const store = net.connect({ port: storePort, host: '127.0.0.1', noDelay: true });
    client.on('data', (d) => store.write(d));
    store.on('data', (d) => client.write(d));
    const close = () => {
      client.destroy();
      store.destroy();
    };
    for (const s of [client, store]) s.on('close', close).on('error', close);
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as net.AddressInfo).port));
}

/** The Node relay, as its own process like the gateway. */
export async function startNodeRelay(storePort: number): Promise<RunningRelay> {
  const child = fork(import.meta.filename, ['serve', String(storePort)], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(m as number));
    child.once('exit', () => reject(new Error('the pass-through relay exited')));
  });
  return { name: 'Node pass-through', port, pid: child.pid!, stop: () => child.kill() };
}

/** haproxy in TCP mode, one thread; null when haproxy is not installed. */
export async function startHaproxy(storePort: number, dir: string): Promise<RunningRelay | null> {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const port = await freePort();
  const config = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    config,
    ['global', '  nbthread 1', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 1h', '  timeout server 1h',
      'listen imap', `  bind 127.0.0.1:${port}`, `  server store 127.0.0.1:${storePort}`, ''].join('\n'),
  );
  const child: ChildProcess = spawn('haproxy', ['-f', config, '-db'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await canConnect(port)) return { name: 'haproxy (TCP mode)', port, pid: child.pid!, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

if (process.argv[2] === 'serve') serve(Number(process.argv[3]));
