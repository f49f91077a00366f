/**
 * The one place that reads the environment. Every variable is validated once, at boot; a bad value stops
 * the process with a single line naming the variable (see `loadConfig`). The names are a contract with
 * operators and scripts: see the configuration table in README.md.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseProxyNetworks } from './trusted-proxies.js';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port')
  .transform((v) => {
    const i = v.lastIndexOf(':');
    return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
  });
const optionalString = z.string().min(1).optional();
const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** "1m,5m,30m,2h": durations with a unit (ms, s, m, h), each at most a day, as milliseconds. */
const delayList = z
  .string()
  .regex(/^\s*\d{1,9}(ms|s|m|h)(\s*,\s*\d{1,9}(ms|s|m|h)){0,19}\s*$/, 'expected up to 20 delays like "1m,5m,30m,2h" (units ms, s, m, h)')
  .transform((v) =>
    v.split(',').map((d) => {
      const [, n, unit] = /^(\d+)(ms|s|m|h)$/.exec(d.trim())!;
      return Number(n) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    }),
  )
  .refine((delays) => delays.every((d) => d >= 1 && d <= 24 * 3_600_000), 'each delay must be between 1ms and 24h');

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
      .optional(),
    /**
     * Bounds that make a PostgreSQL outage fail fast (a clear 503 / NO [UNAVAILABLE]) instead of hanging.
     * A stopped database refuses at once whatever the connect timeout; the timeout bounds an unreachable
     * one. Not much lower than the default: postgres.js 3.4.9 can crash the process on a connect timeout
     * under load (porsager/postgres#1154), which a 1 s timeout triggered once in a test run on a loaded 2-core machine.
     */
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
    /** Pool size per instance; each instance holds one more connection for LISTEN. */
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
    HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * Balancers allowed to name the client: PROXY protocol v1/v2 on IMAP, IMAPS, SMTP and SMTPS (required
     * from them), X-Forwarded-For / Forwarded on the web. Addresses or CIDRs, comma-separated; unset: none.
     */
    TRUSTED_PROXIES: z
      .string()
      .transform((v, ctx) => {
        const networks = parseProxyNetworks(v);
        if (!networks) ctx.addIssue({ code: 'custom', message: 'expected addresses or CIDRs like "10.0.0.0/8,2001:db8::1"' });
        return networks ?? [];
      })
      .default([]),
    WEB_PORT: port.default(8080),
    IMAP_PORT: port.default(1143),
    IMAPS_PORT: port.default(1993),
    SMTP_PORT: port.default(1587),
    /** Implicit-TLS submission (RFC 8314 §3.3), started only when TLS_CERT/TLS_KEY are set. */
    SMTPS_PORT: port.default(1465),
    TLS_CERT: optionalString,
    TLS_KEY: optionalString,
    PUBLIC_URL: z.url().optional(),
    UPSTREAM_IMAP: hostPort.optional(),
    UPSTREAM_IMAP_TLS: bool.default(false),
    /** Seconds a logged-out client's store session is kept for the same user's next login (0: never). */
    IMAP_SESSION_REUSE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    UPSTREAM_SMTP: hostPort.optional(),
    UPSTREAM_MASTER_USER: optionalString,
    UPSTREAM_MASTER_PASSWORD: optionalString,
    UPSTREAM_RESTRICTED_MASTER_USER: optionalString,
    UPSTREAM_RESTRICTED_MASTER_PASSWORD: optionalString,
    SMS_PROVIDER: z.enum(['console', 'twilio']).default('console'),
    /** Lets the console SMS provider (and /demo/phone) run on a non-loopback HOST: development only. */
    ALLOW_CONSOLE_SMS: bool.default(false),
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM: optionalString,
    TWILIO_MESSAGING_SERVICE_SID: optionalString,
    TWILIO_API_BASE: z.url().optional(),
    /** SMS abuse limits (SMS pumping costs real money); checked before any credit is reserved. */
    SMS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(60),
    SMS_MAX_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(5),
    SMS_MAX_PER_GROUP_PER_DAY: z.coerce.number().int().min(1).default(200),
    /** Country calling codes SMS may go to, e.g. "1,44,49"; unset = everywhere. */
    SMS_ALLOWED_COUNTRIES: z
      .string()
      .regex(/^\s*\+?\d{1,3}(\s*,\s*\+?\d{1,3})*\s*$/, 'expected calling codes like "1,44,49"')
      .transform((v) => v.split(',').map((c) => c.trim().replace(/^\+/, '')))
      .optional(),
    /** The SMS text; {code} is replaced by the code. */
    SMS_LOGIN_TEMPLATE: z
      .string()
      .refine((v) => v.includes('{code}'), 'must contain {code}')
      .default('Your Postern login code is {code}. It expires in 10 minutes.'),
    /** Credit packs on sale, "credits:price" in major currency units, e.g. "50:5.00,200:18.00". */
    SMS_CREDIT_PACKS: z
      .string()
      .regex(/^\s*\d+:\d+(\.\d{1,2})?(\s*,\s*\d+:\d+(\.\d{1,2})?)*\s*$/, 'expected packs like "50:5.00,200:18.00"')
      .transform((v) =>
        v.split(',').map((p) => {
          const [credits, price] = p.trim().split(':') as [string, string];
          return { credits: Number(credits), amountCents: Math.round(Number(price) * 100) };
        }),
      )
      .default([
        { credits: 50, amountCents: 500 },
        { credits: 200, amountCents: 1800 },
        { credits: 1000, amountCents: 8000 },
      ]),
    /** Below this many credits the Business/Family overview warns its administrators. */
    SMS_LOW_BALANCE_WARNING: z.coerce.number().int().min(0).default(10),
    SMS_CREDIT_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code like EUR').default('EUR'),
    /** How credit orders are paid; "invoice" grants at once and bills later. */
    PAYMENT_PROVIDER: z.enum(['invoice']).default('invoice'),
    SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** argon2id cost for passwords people choose. Defaults follow RFC 9106 §4 (second recommendation). */
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(8).default(65536),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).default(3),
    ARGON2_PARALLELISM: z.coerce.number().int().min(1).default(4),
    /** Prometheus /metrics on a listener of its own (off when unset), bound to METRICS_HOST (loopback). */
    METRICS_PORT: port.optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** Also serves /metrics on the web port, to `Authorization: Bearer <token>` only (and requires it on METRICS_PORT). */
    METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** On SIGTERM the web stops accepting and lets requests in flight finish for at most this long. */
    DRAIN_SECONDS: z.coerce.number().min(0).max(600).default(10),
    /** Sending limits (a stolen login must not become a spam cannon); restricted logins get the lower ones. */
    SEND_MAX_MESSAGES_PER_HOUR: z.coerce.number().int().min(1).default(200),
    SEND_MAX_MESSAGES_PER_HOUR_PER_LOGIN: z.coerce.number().int().min(1).default(100),
    SEND_MAX_MESSAGES_PER_HOUR_RESTRICTED: z.coerce.number().int().min(1).default(20),
    SEND_MAX_RECIPIENTS: z.coerce.number().int().min(1).default(100),
    SEND_MAX_RECIPIENTS_RESTRICTED: z.coerce.number().int().min(1).default(10),
    /** Between an address's local part and its tag (alice+news@…); "none": no subaddresses. */
    SUBADDRESS_SEPARATOR: z.enum(['+', '-', '=', '_', '.', 'none']).default('+'),
    MAX_MESSAGE_SIZE: z.coerce.number().int().min(1024).default(50 * 1024 * 1024),
    /** Bytes a restricted session may add (APPEND, COPY) per session and per login per day: src/restricted/budget.ts. */
    RESTRICTED_SESSION_BYTES: z.coerce.number().int().min(0).default(10 * 1024 * 1024),
    RESTRICTED_DAILY_BYTES: z.coerce.number().int().min(0).default(50 * 1024 * 1024),
    /** Password verifications at once (about one per core), per address (running or waiting), and waiting in all. */
    AUTH_VERIFY_CONCURRENCY: z.coerce.number().int().min(1).default(2),
    AUTH_VERIFY_PER_ADDRESS: z.coerce.number().int().min(1).default(4),
    AUTH_VERIFY_QUEUE: z.coerce.number().int().min(0).default(32),
    /** Connection caps per listener (all kept under the descriptor limit at start-up: see gateway/connection-limits.ts). */
    IMAP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(2000),
    IMAP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(50),
    SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(500),
    SMTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
    WEB_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1000),
    /** Seconds a client has to log in, from connecting (not reset by traffic; time spent verifying is not counted). */
    PRE_LOGIN_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(60),
    /** The same for SMTP submission: not authenticated within this many seconds → 421 and closed. */
    SMTP_PRE_LOGIN_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(60),
    /**
     * A login notice the outgoing MTA did not take (down, 4xx, timeout) is tried again after each of these
     * delays in turn, then given up (LOGIN_NOTICE_GAVE_UP): by default the last try is about a day after the use.
     */
    LOGIN_NOTICE_RETRY_DELAYS: delayList.default([60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 28_800_000, 28_800_000]),
  })
  .superRefine((c, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (Boolean(c.TLS_CERT) !== Boolean(c.TLS_KEY)) fail(c.TLS_CERT ? 'TLS_KEY' : 'TLS_CERT', 'TLS_CERT and TLS_KEY go together');
    if (c.UPSTREAM_IMAP && !(c.UPSTREAM_MASTER_USER && c.UPSTREAM_MASTER_PASSWORD))
      fail('UPSTREAM_MASTER_USER', 'required (with UPSTREAM_MASTER_PASSWORD) when UPSTREAM_IMAP is set');
    if (Boolean(c.UPSTREAM_RESTRICTED_MASTER_USER) !== Boolean(c.UPSTREAM_RESTRICTED_MASTER_PASSWORD))
      fail('UPSTREAM_RESTRICTED_MASTER_PASSWORD', 'UPSTREAM_RESTRICTED_MASTER_USER and its password go together');
    for (const name of ['UPSTREAM_MASTER_USER', 'UPSTREAM_RESTRICTED_MASTER_USER'] as const) {
      if (c[name]?.includes('*')) fail(name, 'must not contain the master separator "*"');
    }
    if (c.SMS_PROVIDER === 'twilio') {
      if (!c.TWILIO_ACCOUNT_SID) fail('TWILIO_ACCOUNT_SID', 'required when SMS_PROVIDER=twilio');
      if (!c.TWILIO_AUTH_TOKEN) fail('TWILIO_AUTH_TOKEN', 'required when SMS_PROVIDER=twilio');
      if (!c.TWILIO_FROM && !c.TWILIO_MESSAGING_SERVICE_SID)
        fail('TWILIO_FROM', 'TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required when SMS_PROVIDER=twilio');
    }
    if (c.SMS_PROVIDER === 'console' && c.NODE_ENV === 'production')
      fail('SMS_PROVIDER', 'the console provider delivers nothing; set SMS_PROVIDER=twilio in production');
    // Its codes are readable on /demo/phone by whoever can reach the web: only where nobody else can.
    else if (c.SMS_PROVIDER === 'console' && !isLoopbackHost(c.HOST) && !c.ALLOW_CONSOLE_SMS)
      fail('SMS_PROVIDER', `the console provider shows every code on /demo/phone, so it runs only when HOST is a loopback address (HOST=${c.HOST}); set SMS_PROVIDER=twilio, or ALLOW_CONSOLE_SMS=1 on a development machine`);
    if (c.NODE_ENV === 'production' && !c.SECRET_KEY) fail('SECRET_KEY', 'required in production');
  });

/** 127.0.0.0/8, ::1 or localhost: every listener binds HOST, so then nothing listens beyond this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

export type Config = Omit<z.infer<typeof schema>, 'DATA_DIR'> & {
  DATA_DIR: string;
  /** The web's external origin, without a trailing slash. */
  PUBLIC_URL: string;
};

/** A configuration error, reported as one line naming the variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/**
 * Validates an environment (process.env by default). Throws ConfigError whose message is one line:
 * `invalid configuration: WEB_PORT: expected number, received "abc"`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.') || 'environment';
    const received = name in present && !/PASSWORD|TOKEN|SECRET/.test(name) ? ` (got "${present[name]}")` : '';
    throw new ConfigError(`invalid configuration: ${name}: ${issue.message}${received}`);
  }
  const c = parsed.data;
  return {
    ...c,
    DATA_DIR: path.resolve(c.DATA_DIR),
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://${c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.WEB_PORT}`).replace(/\/+$/, ''),
  };
}

let cached: Config | undefined;

/** The process-wide configuration, read from process.env on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** Replaces the process-wide configuration (tests and the CLI, which load it once with overrides). */
export function setConfig(next: Config): void {
  cached = next;
}
