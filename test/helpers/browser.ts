/**
 * Headless Debian Chromium driven by playwright-core: never a downloaded browser. One browser per test
 * file (launching costs ~1 s); each test takes a fresh context (its own cookies, like a new kiosk user).
 * Also starts a web app on 127.0.0.1:0 with @hono/node-server, PUBLIC_URL set to the real address so the
 * origin check and cookies behave as in development.
 */
import fs from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import type { AddressInfo } from 'node:net';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../artifacts');

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<LaunchedBrowser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // No --user-data-dir: playwright refuses it with launch() and gives every launch a fresh temporary
      // profile of its own, which it deletes on close — the same isolation.
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens first (port 0), then builds the app with the origin it got: `build(origin)` returns the fetch
 * handler (usually `createWebApp(ctxWithPublicUrl(origin)).fetch`).
 */
export async function serveOnLoopback(build: (origin: string) => (req: Request, env: unknown) => Response | Promise<Response>): Promise<RunningServer> {
  const holder: { handler?: (req: Request, env: unknown) => Response | Promise<Response> } = {};
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: (req, env) => holder.handler!(req, env), hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  holder.handler = build(url);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}
