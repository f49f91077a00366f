/**
 * Keeping the connection caps under the process's file-descriptor limit, so that a flood on one
 * listener ends at its cap and never at EMFILE, which would stop every front at once (issue #11).
 *
 * Node has no setrlimit; `prlimit` (util-linux) may raise another process's soft limit up to its hard
 * limit when both run as the same user, so start-up asks it to. Then the caps are checked against the
 * soft limit that is in force and lowered, with one warning, if together they do not fit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Descriptors kept for everything that is not a client connection: database pool, log, Dovecot, files. */
export const DESCRIPTOR_RESERVE = 256;

export interface CapSettings {
  IMAP_MAX_CONNECTIONS: number;
  SMTP_MAX_CONNECTIONS: number;
  WEB_MAX_CONNECTIONS: number;
}

/** The soft and hard "Max open files" of this process, or null when /proc is not there. */
export function readDescriptorLimit(): { soft: number; hard: number } | null {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
    const parse = (v: string | undefined) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return line ? { soft: parse(soft), hard: parse(hard) } : null;
  } catch {
    return null;
  }
}

/** Raises the soft limit to the hard one when prlimit can; returns the limit then in force. */
export function raiseDescriptorLimit(): { soft: number; hard: number } | null {
  const limit = readDescriptorLimit();
  if (!limit || limit.soft >= limit.hard || limit.hard === Number.MAX_SAFE_INTEGER) return limit;
  spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit.hard}:`], { stdio: 'ignore', timeout: 5000 });
  return readDescriptorLimit();
}

/**
 * Caps that fit in `soft` descriptors: an IMAP session holds two (client and store), an SMTP session two
 * (client and upstream MTA), a web connection one. When they do not fit, all are scaled down alike.
 */
export function fitCaps<T extends CapSettings>(config: T, soft: number): { config: T; lowered: boolean } {
  const needed = 2 * config.IMAP_MAX_CONNECTIONS + 2 * config.SMTP_MAX_CONNECTIONS + config.WEB_MAX_CONNECTIONS;
  const available = soft - DESCRIPTOR_RESERVE;
  if (needed <= available) return { config, lowered: false };
  const scale = Math.max(0, available) / needed;
  const fit = (n: number) => Math.max(1, Math.floor(n * scale));
  return {
    config: {
      ...config,
      IMAP_MAX_CONNECTIONS: fit(config.IMAP_MAX_CONNECTIONS),
      SMTP_MAX_CONNECTIONS: fit(config.SMTP_MAX_CONNECTIONS),
      WEB_MAX_CONNECTIONS: fit(config.WEB_MAX_CONNECTIONS),
    },
    lowered: true,
  };
}
