/**
 * Response headers for every page: a strict Content-Security-Policy (no scripts at all, styles only from
 * our own origin, no framing), the usual hardening headers, and `Cache-Control: no-store` on pages so a
 * kiosk's back button after logout shows nothing.
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export function securityHeaders(): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
    // A route that sets its own policy keeps it: the webmail's message page (which frames the message)
    // and the message frame itself (sandboxed, framable by our pages only).
    overwrite: false,
  });
  return async function securityHeadersMiddleware(c, next) {
    await headers(c, async () => {
      await next();
      // On c.res.headers, not c.header(): after the handler, c.header() rebuilds the Response around its
      // body stream, which made @hono/node-server pump every page through a web stream (~0.3 ms a page).
      if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    });
  };
}
