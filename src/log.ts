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

export const log: Logger = pino({
  level: level(),
  base: { app: 'postern' },
  redact: { paths: redactPaths, censor: '[redacted]' },
});
