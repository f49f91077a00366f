import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

const bin = path.resolve(__dirname, '../../bin/postern.js');

function runPostern(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('postern serve', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-serve-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('starts web and IMAP, answers /healthz and /readyz, prints demo credentials and exits 0 on SIGTERM', async () => {
    const d = inject('dovecot');
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        DATA_DIR: dataDir,
        WEB_PORT: '0',
        IMAP_PORT: '0',
        SMTP_PORT: '0',
        UPSTREAM_IMAP: `${d.host}:${d.port}`,
        UPSTREAM_MASTER_USER: d.masterUser,
        UPSTREAM_MASTER_PASSWORD: d.masterPassword,
        LOG_LEVEL: 'silent',
      },
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!/password: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const webUrl = /web\s+(http:\/\/\S+)\//.exec(out)?.[1];
    expect(webUrl, out).toBeTruthy();
    expect((await fetch(`${webUrl}/healthz`)).status).toBe(200);
    const res = await fetch(`${webUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ database: 'up', upstream: 'up' });
    expect(out).toMatch(/username: demo/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a bad setting with one line naming the variable', async () => {
    const r = await runPostern(['migrate'], { WEB_PORT: 'eighty', DATA_DIR: dataDir });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/WEB_PORT/);
  });
});
