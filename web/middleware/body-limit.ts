/**
 * Request body limits. A body that declares its length (every browser form does) is judged by that
 * header alone: Node's HTTP parser never delivers more than Content-Length bytes as the body, so nothing
 * more can arrive. Only a chunked body, which declares nothing, is counted as it streams (hono's
 * bodyLimit). Going through hono's bodyLimit for every request made @hono/node-server build a full web
 * Request and pump the form through a web stream (~0.3 ms a request, profiled); GET and HEAD carry no body
 * at all and are not looked at.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebEnv } from '../env.js';

/** `tooLarge` answers (or throws) the refusal; `maxBytesFor` gives the limit for a request path. */
export function limitBodies(maxBytesFor: (path: string) => number, tooLarge: (c: Context<WebEnv>) => Promise<never>): MiddlewareHandler<WebEnv> {
  const streamed = new Map<number, MiddlewareHandler<WebEnv>>();
  const streamedLimit = (max: number) => {
    let limit = streamed.get(max);
    if (!limit) streamed.set(max, (limit = bodyLimit({ maxSize: max, onError: (c) => tooLarge(c as Context<WebEnv>) })));
    return limit;
  };
  return async function limitBodiesMiddleware(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const max = maxBytesFor(c.req.path);
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      const bytes = Number(declared);
      if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > max) return tooLarge(c);
      return next();
    }
    return streamedLimit(max)(c, next);
  };
}
