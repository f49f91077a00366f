/**
 * The Hono application: mounts each area's sub-app. Handlers stay in their sub-apps (web/routes/*.ts).
 */
import { Hono } from 'hono';
import type { AppContext } from '../src/context.js';
import { createHealthRoutes } from './routes/health.js';

export function createWebApp(ctx: AppContext) {
  const app = new Hono();
  app.route('/', createHealthRoutes(ctx));
  return app;
}
