/**
 * The stylesheet, served from our own origin under a content-hashed name so it can be cached forever
 * and the Content-Security-Policy can stay `style-src 'self'` (no inline styles, no other hosts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Hono } from 'hono';

const css = fs.readFileSync(new URL('./static/style.css', import.meta.url));
const hash = crypto.createHash('sha256').update(css).digest('hex').slice(0, 12);

/** The URL path of the stylesheet, for the layout's <link>. */
export const stylesheetPath = `/static/style.${hash}.css`;

export function createStaticRoutes() {
  const app = new Hono();
  app.get(stylesheetPath, (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(css);
  });
  return app;
}
