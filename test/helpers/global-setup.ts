/**
 * Once per test run: one private Dovecot (the same code as the dev upstream), shared by every file.
 * Each test uses its own mailbox names, so files do not see each other's mail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { installDebianPackage } from '../../src/debian-packages.js';
import { startDovecot } from '../../src/upstream/dev-dovecot.js';

export interface DovecotInfo {
  host: string;
  port: number;
  masterUser: string;
  masterPassword: string;
  restrictedMasterUser: string;
  restrictedMasterPassword: string;
  /** Dovecot's log file, for tests that check what the store saw (e.g. the client address from ID). */
  logPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    dovecot: DovecotInfo;
  }
}

/**
 * The browser tests drive Debian's Chromium (never a downloaded browser). Like Dovecot, it is installed
 * when missing and we are root; otherwise the browser tests fail loudly, naming the package.
 */
function ensureChromium(): void {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (fs.existsSync(chromium) || process.getuid?.() !== 0) return;
  installDebianPackage('chromium');
}

/** The SMTP tests drive swaks as one of their mail clients; installed the same way when missing. */
function ensureSwaks(): void {
  if (fs.existsSync('/usr/bin/swaks') || process.getuid?.() !== 0) return;
  installDebianPackage('swaks');
}

export default async function setup(project: TestProject) {
  ensureChromium();
  ensureSwaks();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-dovecot-'));
  // Installs dovecot-imapd when missing and we are root; otherwise fails loudly, never skips.
  const dovecot = await startDovecot({ dir, install: true });
  project.provide('dovecot', {
    host: dovecot.host,
    port: dovecot.port,
    masterUser: dovecot.masterUser,
    masterPassword: dovecot.masterPassword,
    restrictedMasterUser: dovecot.restrictedMasterUser,
    restrictedMasterPassword: dovecot.restrictedMasterPassword,
    logPath: path.join(dir, 'dovecot.log'),
  });
  return async () => {
    await dovecot.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
