/**
 * `postern serve` (= `npm start`): web, IMAP gateway and SMTP submission in one process. Without
 * UPSTREAM_IMAP it runs a private Dovecot under DATA_DIR (the dev upstream) and seeds a demo account.
 */
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { config as loadedConfig, type Config } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { warmDummyHash } from '../src/auth/dummy-verify.js';
import { pruneThrottle } from '../src/auth/throttle.js';
import { pruneSavedSearches } from '../web/mail/saved-searches.js';
import type { CliCommand } from '../src/cli/command.js';
import { formatDemoCredentials, seedDemo } from '../src/cli/demo.js';
import { startDovecot, type DovecotInstance } from '../src/upstream/dev-dovecot.js';
import { fitCaps, raiseDescriptorLimit } from '../gateway/descriptor-limit.js';
import { startImapGateway } from '../gateway/imap/server.js';
import { startSmtpSubmission } from '../gateway/smtp/server.js';
import { startDevMta } from '../src/upstream/dev-mta.js';
import { startNoticeSweeper } from '../src/notices/index.js';
import { createWebApp } from '../web/app.js';
import { drainWebServer } from '../web/drain.js';
import { startMetricsServer } from '../web/metrics-server.js';
import { countGroupsLowOnCredits } from '../src/credits/accounts.js';
import { enableProcessMetrics, setLiveSessionsSource } from '../src/metrics/registry.js';
import { setLowCreditSource } from '../src/metrics/record.js';

interface Closeable {
  name: string;
  close(): Promise<void>;
  /** The fronts (web, IMAP, SMTP) drain together, before anything they depend on is closed. */
  front?: boolean;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the web, IMAP and SMTP fronts (npm start)',
  usage: 'serve',
  needsContext: false,
  async run(_args, io) {
    let config: Config = loadedConfig();
    const running: Closeable[] = [];
    let dovecot: DovecotInstance | undefined;
    if (!config.UPSTREAM_IMAP) {
      io.stdout.write('No UPSTREAM_IMAP: starting a private Dovecot (dev upstream)…\n');
      dovecot = await startDovecot({ dir: path.join(config.DATA_DIR, 'dovecot'), install: true });
      running.push({ name: 'dovecot', close: () => dovecot!.stop() });
      config = {
        ...config,
        UPSTREAM_IMAP: { host: dovecot.host, port: dovecot.port },
        UPSTREAM_IMAP_TLS: false,
        UPSTREAM_MASTER_USER: dovecot.masterUser,
        UPSTREAM_MASTER_PASSWORD: dovecot.masterPassword,
        UPSTREAM_RESTRICTED_MASTER_USER: dovecot.restrictedMasterUser,
        UPSTREAM_RESTRICTED_MASTER_PASSWORD: dovecot.restrictedMasterPassword,
      };
    }
    // Connection caps below the descriptor limit: a flood ends at a cap, never at EMFILE for every front.
    const descriptors = raiseDescriptorLimit();
    const fitted = descriptors ? fitCaps(config, descriptors.soft) : { config, lowered: false };
    config = fitted.config;
    try {
      const ctx = await createContext(config);
      if (fitted.lowered)
        ctx.log.warn(
          { code: 'CONNECTION_CAPS_LOWERED', openFiles: descriptors!.soft, imap: config.IMAP_MAX_CONNECTIONS, smtp: config.SMTP_MAX_CONNECTIONS, web: config.WEB_MAX_CONNECTIONS },
          'connection caps lowered to fit the open-files limit',
        );
      running.unshift({ name: 'database', close: () => ctx.database.close() });
      running.unshift({ name: 'live sessions', close: () => ctx.liveSessions.close() });
      // The first unknown-user login must not pay for building the dummy hash (timing would tell).
      await warmDummyHash(ctx.hasher);
      const housekeeping = startHousekeeping(ctx);
      running.unshift({ name: 'housekeeping', close: async () => clearInterval(housekeeping) });

      enableProcessMetrics();
      setLiveSessionsSource(() => ctx.liveSessions.counts());
      setLowCreditSource(() => countGroupsLowOnCredits(ctx.db, config.SMS_LOW_BALANCE_WARNING));
      const web = await listenWeb(createWebApp(ctx).fetch, config.HOST, config.WEB_PORT, config.WEB_MAX_CONNECTIONS);
      const metrics = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(config, config.METRICS_PORT);
      if (metrics) running.unshift({ name: 'metrics', close: () => closeServer(metrics.server) });
      const imap = await startImapGateway(ctx, { host: config.HOST, port: config.IMAP_PORT });
      running.unshift({
        name: 'imap',
        front: true,
        close: async () => {
          await imap.drain(config.DRAIN_SECONDS * 1000);
        },
      });
      // Without UPSTREAM_SMTP, submitted mail goes to a loopback-only MTA that delivers to local mailboxes.
      const mta = config.UPSTREAM_SMTP ? undefined : await startDevMta(ctx);
      if (mta) running.unshift({ name: 'dev-mta', close: () => mta.close() });
      if (mta) ctx.devMta = { host: mta.host, port: mta.port };
      // Login-notice summaries that waited out a login's hour, retries, and notices a restart left pending
      // go out from here (src/notices/): once the outgoing MTA is known, so the first round can reach it.
      const notices = startNoticeSweeper(ctx);
      running.unshift({ name: 'login notices', close: async () => notices.stop() });
      const smtp = await startSmtpSubmission(ctx, { host: config.HOST, port: config.SMTP_PORT, upstream: mta, closeTimeoutMs: config.DRAIN_SECONDS * 1000 });
      running.unshift({ name: 'smtp', front: true, close: () => smtp.close() });
      // The fronts stop accepting at once on SIGTERM and drain together (DRAIN_SECONDS); then the rest closes.
      running.unshift({
        name: 'web',
        front: true,
        close: async () => {
          const how = await drainWebServer(web.server, config.DRAIN_SECONDS * 1000);
          ctx.log.info({ how }, 'web server stopped');
        },
      });

      const hostForUrl = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
      ctx.log.info({ port: web.port }, 'web listening');
      io.stdout.write(
        [
          `Postern is running (database: ${ctx.database.driver}${dovecot ? ', upstream: private Dovecot' : ''}).`,
          `  web   http://${hostForUrl}:${web.port}/  (health: /healthz, /readyz)`,
          `  imap  ${hostForUrl}:${imap.port}${imap.imapsPort ? `  (imaps ${hostForUrl}:${imap.imapsPort})` : ''}`,
          `  smtp  ${hostForUrl}:${smtp.port}${smtp.smtpsPort ? `  (smtps ${hostForUrl}:${smtp.smtpsPort})` : ''}${mta ? '  (relaying to a local dev MTA)' : ''}`,
          ...(metrics ? [`  metrics http://${config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST}:${metrics.port}/metrics`] : []),
          '',
        ].join('\n'),
      );
      if (!config.DATABASE_URL || dovecot) {
        const demo = await seedDemo(ctx);
        if (demo.credentials) io.stdout.write(`Demo account${demo.created ? ' (new)' : ''}:\n${formatDemoCredentials(demo.credentials)}\n`);
      }
    } catch (e) {
      await closeAll(running);
      throw e;
    }
    await waitForSignal();
    io.stdout.write('Shutting down…\n');
    await closeAll(running);
    return 0;
  },
};

/** Every 10 minutes: forgets expired throttle counters and stale webmail searches, so the tables stay small. */
function startHousekeeping(ctx: AppContext): NodeJS.Timeout {
  const timer = setInterval(() => {
    pruneThrottle(ctx).catch((err: unknown) => ctx.log.warn({ err, code: 'HOUSEKEEPING_FAILED' }, 'pruning throttle counters failed'));
    pruneSavedSearches(ctx.db).catch((err: unknown) => ctx.log.warn({ err, code: 'HOUSEKEEPING_FAILED' }, 'pruning saved searches failed'));
  }, 10 * 60_000);
  timer.unref();
  return timer;
}

function listenWeb(fetch: (req: Request) => Response | Promise<Response>, host: string, port: number, maxConnections: number) {
  return new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port }, (info) => resolve({ server, port: info.port }));
    // The web's own budget: an IMAP or SMTP flood stops at its own cap and leaves these descriptors free.
    server.maxConnections = maxConnections;
    server.once('error', reject);
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

async function closeAll(running: Closeable[]): Promise<void> {
  await Promise.all(running.filter((r) => r.front).map((r) => r.close().catch(() => undefined)));
  for (const r of running.filter((r) => !r.front)) {
    try {
      await r.close();
    } catch {
      // Keep closing the rest: a half-stopped process is worse than a noisy one.
    }
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
