/**
 * The server key for HMACs (app passwords, one-time codes, SMS codes, auth cache keys). In production it
 * comes from SECRET_KEY; in development it is generated once and kept under DATA_DIR with mode 0600, so
 * restarting the demo does not invalidate every printed list.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function resolveSecretKey(options: { secretKey?: string; dataDir: string }): Buffer {
  if (options.secretKey) return crypto.createHash('sha256').update(options.secretKey).digest();
  const file = path.join(options.dataDir, 'secret.key');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const key = crypto.randomBytes(32);
  fs.writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
