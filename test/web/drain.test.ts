/**
 * SIGTERM drain of the web server (web/drain.ts, used by `postern serve`): new connections are refused at
 * once, a request in flight gets its whole answer, idle keep-alive connections do not hold the exit up,
 * and a request that never ends is cut at the deadline.
 */
import http from 'node:http';
import net from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { drainWebServer } from '../../web/drain.js';

let server: ServerType | undefined;

function start(): Promise<number> {
  const app = new Hono();
  app.get('/quick', (c) => c.text('quick'));
  app.post('/upload', async (c) => c.text(`got ${(await c.req.text()).length} bytes`));
  return new Promise((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
  });
}

afterEach(async () => {
  (server as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
  await new Promise((r) => (server?.listening ? server.close(r) : r(undefined)));
});

/** A POST whose body is sent in two halves, so the request is in flight in between. */
function slowUpload(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d));
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.on('error', () => undefined);
  socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n12345');
  return { finish: () => socket.write('67890'), ended };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

describe('web drain', () => {
  it('refuses new connections, lets the request in flight finish, then resolves', async () => {
    const port = await start();
    const upload = slowUpload(port);
    await new Promise((r) => setTimeout(r, 100));
    const drained = drainWebServer(server!, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await refused(port)).toBe(true);
    upload.finish();
    const answer = await upload.ended;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('got 10 bytes');
    expect(await drained).toBe('drained');
  });

  it('does not wait for idle keep-alive connections', async () => {
    const port = await start();
    const agent = new http.Agent({ keepAlive: true });
    const body = await new Promise<string>((resolve) =>
      http.get({ host: '127.0.0.1', port, path: '/quick', agent }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      }),
    );
    expect(body).toBe('quick');
    const started = performance.now();
    expect(await drainWebServer(server!, 5000)).toBe('drained');
    expect(performance.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  it('cuts a request that does not finish by the deadline', async () => {
    const port = await start();
    const upload = slowUpload(port);
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    expect(await drainWebServer(server!, 300)).toBe('cut');
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(250);
    expect(took).toBeLessThan(1500);
    await upload.ended;
  });
});
