/**
 * The process logger (pino). Known secret-bearing fields are redacted wherever they appear, as a second
 * line of defence: code should not put secrets in log objects in the first place.
 */
import { pino, type Logger } from 'pino';

const redactPaths = ['password', 'secret', 'token', 'authorization', 'cookie', 'smsCode', 'otpCode']
  .flatMap((k) => [k, `*.${k}`]);

function level(): string {
  if (process.env.LOG_LEVEL) return process.env.LOG_LEVEL;
  return process.env.VITEST ? 'silent' : 'info';
}

/**
 * pino's error serializer, minus SQL parameters. drizzle's DrizzleQueryError puts every bound value (password
 * and secret hashes, session token hashes, phone numbers) into its message, its stack and a `params` field,
 * and a logged error would carry them all; the query text itself stays, it is what helps debugging.
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (!out || typeof out !== 'object') return out;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (!('params' in e)) continue;
    const leaked = `\nparams: ${String((e as { params: unknown }).params)}`;
    for (const key of ['message', 'stack'] as const) {
      if (typeof out[key] === 'string') out[key] = (out[key] as string).replaceAll(leaked, '\nparams: [redacted]');
    }
  }
  redactFields(out, 0);
  return out;
}

/**
 * PostgreSQL errors also echo values in `detail` ("Key (user_id, code_hash)=(7, 3f…) already exists") and
 * drizzle in `params`; drop both wherever they sit in the serialized cause chain.
 */
function redactFields(value: Record<string, unknown>, depth: number): void {
  if (depth > 10) return;
  for (const key of ['params', 'detail'] as const) if (key in value) value[key] = '[redacted]';
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') redactFields(child as Record<string, unknown>, depth + 1);
  }
}

export const log: Logger = pino({
  level: level(),
  base: { app: 'postern' },
  redact: { paths: redactPaths, censor: '[redacted]' },
  serializers: { err: serializeError },
  hooks: {
    // `log.error(err)` alone would make the raw error message the log line's msg, bypassing the scrubbing.
    logMethod(args, method) {
      const [first, second] = args as unknown[];
      if (first instanceof Error && typeof second !== 'string') {
        const msg = (serializeError(first) as { message?: string }).message ?? first.name;
        return method.apply(this, [{ err: first }, msg] as unknown as Parameters<typeof method>);
      }
      return method.apply(this, args);
    },
  },
});
