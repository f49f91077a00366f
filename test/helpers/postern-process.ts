/**
 * A real `postern serve` process for tests: its own process group (so nothing it starts outlives the test),
 * stopped by its PID; the ports and demo credentials are read from what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/postern.js');

export interface PosternProcess {
  child: ChildProcess;
  pid: number;
  web: string;
  imapPort: number;
  smtpPort: number;
  /** Everything printed on stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM to the process (the drain); `kill()` ends its whole group at once (cleanup). */
  terminate(): void;
  kill(): void;
}

export async function startPostern(env: Record<string, string>, options: { readyPattern?: RegExp; timeoutMs?: number } = {}): Promise<PosternProcess> {
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, WEB_PORT: '0', IMAP_PORT: '0', SMTP_PORT: '0', LOG_LEVEL: 'silent', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid!;
  const kill = () => {
    if (gone) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const ready = options.readyPattern ?? /smtp\s+\S+:\d+/;
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!ready.test(out) && !gone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!ready.test(out)) {
    kill();
    throw new Error(`postern serve did not start:\n${out}`);
  }
  const port = (name: string) => Number(new RegExp(`${name}\\s+\\S+:(\\d+)`).exec(out)?.[1]);
  return {
    child,
    pid,
    web: /web\s+(http:\/\/\S+?)\/?\s/.exec(out)?.[1] ?? '',
    imapPort: port('imap'),
    smtpPort: port('smtp'),
    output: () => out,
    exited,
    terminate: () => {
      if (!gone) process.kill(pid, 'SIGTERM');
    },
    kill,
  };
}
