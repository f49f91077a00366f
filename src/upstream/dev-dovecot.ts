/**
 * A private Dovecot instance: the "dev upstream" of `npm start` and the mail store of the test suite
 * (same code for both). It listens on loopback only, with two master users for the gateway:
 *  - the normal master (full rights), and
 *  - the restricted master, whose global ACL lacks the expunge/delete rights (`lrwsipk`: it may create
 *    folders, never delete or rename them), so a restricted session is refused twice: by the gateway's
 *    policy and by the store.
 * Facts this relies on are in docs/imap-security.md ("Running a private Dovecot").
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installDebianPackage } from '../debian-packages.js';

export interface DovecotInstance {
  host: string;
  port: number;
  masterUser: string;
  masterPassword: string;
  restrictedMasterUser: string;
  restrictedMasterPassword: string;
  dir: string;
  stop(): Promise<void>;
}

export interface DovecotOptions {
  /** Folder that holds config, mail and runtime state; created if missing. */
  dir: string;
  /** 0 = pick a free port. */
  port?: number;
  /** May this process apt-get install dovecot-imapd when it is missing (only as root)? */
  install?: boolean;
  maxSessions?: number;
}

export class DovecotUnavailableError extends Error {
  readonly code = 'DOVECOT_UNAVAILABLE';
}

const DOVECOT_BIN = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

function findDovecot(): string | null {
  return DOVECOT_BIN.find((p) => fs.existsSync(p)) ?? null;
}

/** Installs Debian's dovecot-imapd when missing and allowed; otherwise one clear error naming the package. */
export function ensureDovecotInstalled(install: boolean): string {
  const found = findDovecot();
  if (found) return found;
  const root = process.getuid?.() === 0;
  if (!install || !root) {
    throw new DovecotUnavailableError(
      'Dovecot is not installed: install the Debian package dovecot-imapd (apt-get install dovecot-imapd), or set UPSTREAM_IMAP',
    );
  }
  installDebianPackage('dovecot-imapd');
  const after = findDovecot();
  if (!after) throw new DovecotUnavailableError('installing dovecot-imapd did not provide /usr/sbin/dovecot');
  return after;
}

/** `{SSHA256}` as Dovecot's passwd-file understands it: base64(sha256(password + salt) + salt). */
function ssha256(password: string): string {
  const salt = crypto.randomBytes(8);
  const digest = crypto.createHash('sha256').update(password).update(salt).digest();
  return `{SSHA256}${Buffer.concat([digest, salt]).toString('base64')}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForGreeting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('* OK'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new DovecotUnavailableError(`Dovecot did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

interface Credentials {
  masterPassword: string;
  restrictedMasterPassword: string;
  storePassword: string;
}

/** Master passwords persist under dir so a restarted demo keeps working with the same store. */
function loadCredentials(dir: string): Credentials {
  const file = path.join(dir, 'credentials.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  } catch {
    const gen = () => crypto.randomBytes(24).toString('base64url');
    const creds = { masterPassword: gen(), restrictedMasterPassword: gen(), storePassword: gen() };
    fs.writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
    return creds;
  }
}

/** Every folder up to dir must be traversable by Dovecot's unprivileged users (dovenull, dovecot). */
function makeTraversable(dir: string): void {
  for (let d = path.resolve(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o005) !== 0o005) fs.chmodSync(d, mode | 0o005);
  }
}

/** Starts a private Dovecot under options.dir and resolves once it greets. */
export async function startDovecot(options: DovecotOptions): Promise<DovecotInstance> {
  const bin = ensureDovecotInstalled(options.install ?? false);
  const dir = path.resolve(options.dir);
  for (const sub of ['', 'run', 'state', 'mail', 'home']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  makeTraversable(dir);
  const creds = loadCredentials(dir);
  const port = options.port || (await freePort());
  const root = process.getuid?.() === 0;
  // As root, mail files belong to Debian's "mail" user (uid 8); otherwise to whoever runs us.
  const uid = root ? 8 : process.getuid!();
  const gid = root ? 8 : process.getgid!();
  if (root) for (const sub of ['mail', 'home']) fs.chownSync(path.join(dir, sub), uid, gid);
  const masterUser = 'postern-gateway';
  const restrictedMasterUser = 'postern-restricted';
  const max = options.maxSessions ?? 2000;

  fs.writeFileSync(
    path.join(dir, 'masters'),
    `${masterUser}:${ssha256(creds.masterPassword)}\n${restrictedMasterUser}:${ssha256(creds.restrictedMasterPassword)}\n`,
    { mode: 0o644 },
  );
  // Users exist for any name, with a password nobody knows: only the gateway (as master) logs in.
  fs.writeFileSync(
    path.join(dir, 'global-acl'),
    `* user=${restrictedMasterUser} lrwsipk\n* user=${masterUser} lrwstipekxa\n`,
    { mode: 0o644 },
  );
  const userName = root ? 'mail' : os.userInfo().username;
  const conf = `# Generated by Postern; do not edit (rewritten at every start).
instance_name = postern-${port}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
login_trusted_networks = 127.0.0.0/8
first_valid_uid = ${Math.min(uid, 8)}
mail_location = maildir:${dir}/mail/%u
mail_plugins = acl
mail_max_userip_connections = ${max}
${root ? '' : `default_login_user = ${userName}\ndefault_internal_user = ${userName}\n`}
default_process_limit = ${max}
default_client_limit = ${max * 2}
passdb {
  driver = passwd-file
  args = ${dir}/masters
  master = yes
  pass = yes
}
passdb {
  driver = static
  args = password=${creds.storePassword}
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
plugin {
  acl = vfile:${dir}/global-acl
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  process_min_avail = 1
  service_count = 0
}
service imap {
  process_limit = ${max}
}
`;
  const confPath = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(confPath, conf, { mode: 0o644 });
  await stopIfRunning(bin, confPath);

  // The daemon keeps inherited stdio open, so it must not inherit our pipes.
  const child = spawn(bin, ['-c', confPath], { stdio: 'ignore', detached: true });
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (exitCode !== 0) {
    const tail = safeTail(path.join(dir, 'dovecot.log'));
    throw new DovecotUnavailableError(`Dovecot failed to start (exit ${exitCode}): ${tail}`);
  }
  await waitForGreeting(port, 10_000);

  return {
    host: '127.0.0.1',
    port,
    masterUser,
    masterPassword: creds.masterPassword,
    restrictedMasterUser,
    restrictedMasterPassword: creds.restrictedMasterPassword,
    dir,
    stop: () => stopIfRunning(bin, confPath),
  };
}

async function stopIfRunning(bin: string, confPath: string): Promise<void> {
  const pidFile = path.join(path.dirname(confPath), 'run', 'master.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // stale pid file
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  void bin;
}

function safeTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return 'no log';
  }
}
