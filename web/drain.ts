/**
 * Stopping the web server politely (SIGTERM during a rolling restart): stop accepting, close idle
 * keep-alive connections at once, let requests in flight finish, and cut whatever is left at the deadline.
 */
import type { ServerType } from '@hono/node-server';

type HttpServer = ServerType & { closeIdleConnections?: () => void; closeAllConnections?: () => void };

/** Resolves once every connection is closed, at the latest `deadlineMs` after the call. */
export async function drainWebServer(server: ServerType, deadlineMs: number): Promise<'drained' | 'cut'> {
  const http = server as HttpServer;
  const closed = new Promise<'drained'>((resolve) => server.close(() => resolve('drained')));
  // A connection becomes idle when its last response is sent; keep-alive would otherwise hold it open.
  http.closeIdleConnections?.();
  const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'cut'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'cut')));
  try {
    const result = await Promise.race([closed, deadline]);
    if (result === 'cut') {
      http.closeAllConnections?.();
      await closed;
    }
    return result;
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
