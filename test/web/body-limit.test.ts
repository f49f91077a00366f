/**
 * Body limits over real HTTP (@hono/node-server, as `postern serve` runs): a declared length over the
 * limit is refused before the handler runs, a chunked body is counted as it streams, and a body within
 * the limit reaches the form parser whole, whichever way it was sent.
 */
import net from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebEnv } from '../../web/env.js';
import { limitBodies } from '../../web/middleware/body-limit.js';

const LIMIT = 1000;
let server: ServerType;
let port: number;
const handled: string[] = [];

beforeAll(async () => {
  const app = new Hono<WebEnv>();
  app.use('*', limitBodies(() => LIMIT, async (c) => {
    throw Object.assign(new Error('too large'), { res: c.text('too large', 413) });
  }));
  app.onError((err) => (err as { res?: Response }).res ?? new Response('error', { status: 500 }));
  app.get('/form', (c) => c.text('page'));
  app.post('/form', async (c) => {
    const body = await c.req.parseBody();
    handled.push(String(body.note));
    return c.text(`note of ${String(body.note).length}`);
  });
  port = await new Promise((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
  });
});

afterAll(async () => {
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await new Promise((r) => server.close(r));
});

/** Sends raw bytes (so the test controls Content-Length and chunking) and returns the whole answer. */
function raw(request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.end(request);
  });
}

const form = (note: string) => `note=${note}`;
const withLength = (body: string) =>
  `POST /form HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const chunked = (body: string) =>
  `POST /form HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n` +
  `${(body.length >> 1).toString(16)}\r\n${body.slice(0, body.length >> 1)}\r\n${(body.length - (body.length >> 1)).toString(16)}\r\n${body.slice(body.length >> 1)}\r\n0\r\n\r\n`;

describe('request body limits', () => {
  it('passes a form within the limit, with its length declared, whole to the handler', async () => {
    const answer = await raw(withLength(form('a'.repeat(LIMIT - 10))));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain(`note of ${LIMIT - 10}`);
  });

  it('refuses a declared length over the limit with 413, and the handler never runs', async () => {
    const before = handled.length;
    const answer = await raw(withLength(form('b'.repeat(LIMIT))));
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(handled.length).toBe(before);
  });

  it('counts a chunked body as it streams: within the limit passes whole, over it is refused', async () => {
    const small = await raw(chunked(form('c'.repeat(500))));
    expect(small).toMatch(/^HTTP\/1\.1 200/);
    expect(small).toContain('note of 500');
    const before = handled.length;
    const big = await raw(chunked(form('d'.repeat(LIMIT * 3))));
    expect(big).toMatch(/^HTTP\/1\.1 413/);
    expect(handled.length).toBe(before);
  });

  it('cannot be fooled by a small declared length: the bytes past it are never form data', async () => {
    // The declared 20 bytes are the body; what follows is parsed as a next request (malformed: 400).
    const body = form('e'.repeat(5000));
    const answer = await raw(`POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n${body}`);
    expect(answer).toContain('HTTP/1.1 400');
    expect(answer).not.toContain('note of 5000');
    for (const note of handled) expect(note.length).toBeLessThanOrEqual(LIMIT);
  });

  it('does not look at GET requests', async () => {
    expect(await raw('GET /form HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200[\s\S]*page$/);
  });
});
