/**
 * `startSmtpSubmission`: the submission listener wired to the real authentication core and the
 * configured upstream. bin/serve.ts calls this; tests that need odd authentication outcomes call
 * submission.ts with their own authenticator.
 */
import fs from 'node:fs';
import type { AppContext } from '../../src/context.js';
import { authenticate } from '../../src/auth/authenticate.js';
import { PosternError } from '../../src/errors.js';
import type { UpstreamSmtp } from '../../src/submission/relay.js';
import { outgoingMta } from '../../src/submission/index.js';
import { startSubmissionListener, type RunningSubmission } from './submission.js';

export type { RunningSubmission } from './submission.js';

export interface SmtpSubmissionOptions {
  host: string;
  port: number;
  /** PEM key and certificate; defaults to the files named by TLS_KEY / TLS_CERT. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Where accepted mail goes; defaults to UPSTREAM_SMTP (bin/serve.ts passes the dev MTA without it). */
  upstream?: UpstreamSmtp;
  /** Implicit-TLS port; defaults to SMTPS_PORT (used only with TLS). */
  smtpsPort?: number;
  /** How long close() lets a message in flight finish (the drain on SIGTERM); default 10 s. */
  closeTimeoutMs?: number;
  /** Time a trusted proxy has to send its PROXY header. */
  proxyHeaderTimeoutMs?: number;
}

/**
 * Starts SMTP submission on host:port (port 0 picks a free one). With TLS configured, STARTTLS is offered
 * there and implicit TLS listens on SMTPS_PORT.
 */
export async function startSmtpSubmission(ctx: AppContext, options: SmtpSubmissionOptions): Promise<RunningSubmission> {
  const upstream = options.upstream ?? outgoingMta(ctx);
  if (!upstream)
    throw new PosternError('CONFIG_INVALID', { message: 'UPSTREAM_SMTP is not set and no upstream MTA was given to the SMTP listener.' });
  return startSubmissionListener(ctx, { smtpsPort: ctx.config.SMTPS_PORT, ...options, tls: options.tls ?? readTlsFiles(ctx), upstream }, authenticate);
}

function readTlsFiles(ctx: AppContext): { key: Buffer; cert: Buffer } | undefined {
  const { TLS_KEY, TLS_CERT } = ctx.config;
  if (!TLS_KEY || !TLS_CERT) return undefined;
  return { key: fs.readFileSync(TLS_KEY), cert: fs.readFileSync(TLS_CERT) };
}
