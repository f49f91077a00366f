/**
 * Real IMAP clients through Postern against the test Dovecot (Debian's isync, offlineimap3, fetchmail
 * and curl), each run full and restricted and followed by a direct look at the store. Full sessions must
 * sync both ways as they do against Dovecot directly; restricted sessions must never lose a message,
 * and the test records what each client tells its user (the README's client table comes from here).
 *
 * Restricted runs use the gateway alone (no restricted master user), so nothing but Postern protects.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDebianPackage } from '../../../src/debian-packages.js';
import { fillMailbox, snapshotMailbox, storeClient } from '../../helpers/mailstore.js';
import { type LiveGateway, type MailUser, createMailUser, startLiveGateway } from './live-gateway.js';

const CLIENTS: Record<string, string> = { mbsync: 'isync', offlineimap: 'offlineimap3', fetchmail: 'fetchmail', curl: 'curl' };

interface Run {
  code: number;
  output: string;
}

/** Runs a client with a private HOME, never with a secret in its arguments; resolves with its exit code. */
function run(command: string, args: string[], home: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' }, timeout: timeoutMs, cwd: home, encoding: 'latin1' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 124) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
        if (process.env.CLIENT_MATRIX_LOG) console.log(command, code, `${stdout}${stderr}`.slice(-1500));
      });
  });
}

function privateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-client-'));
  fs.chmodSync(dir, 0o700);
  return dir;
}

function writeSecretFile(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
}

/** Maildir files of a local folder, as the client wrote them. */
function maildirFiles(dir: string): string[] {
  return ['cur', 'new'].flatMap((sub) => {
    const d = path.join(dir, sub);
    return fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : [];
  });
}

async function storeCount(mailbox: string, folder: string): Promise<number> {
  const c = await storeClient(mailbox);
  try {
    const status = await c.status(folder, { messages: true });
    return status ? (status.messages ?? 0) : 0;
  } finally {
    await c.logout();
  }
}

let gw: LiveGateway;

beforeAll(async () => {
  for (const [binary, pkg] of Object.entries(CLIENTS)) {
    if (!fs.existsSync(`/usr/bin/${binary}`)) installDebianPackage(pkg);
  }
  gw = await startLiveGateway({ env: { UPSTREAM_RESTRICTED_MASTER_USER: undefined, UPSTREAM_RESTRICTED_MASTER_PASSWORD: undefined } });
});

afterAll(async () => {
  await gw?.close();
});

describe('isync (mbsync)', () => {
  /** `channel` replaces the sync options (the README's restricted-login setting). */
  function config(home: string, user: string, pass: string, channel = ['Create Both', 'Expunge Both']): string {
    const local = path.join(home, 'Mail');
    fs.mkdirSync(local, { recursive: true });
    writeSecretFile(path.join(home, 'pass'), pass);
    const file = path.join(home, 'mbsyncrc');
    writeSecretFile(file, [
      'IMAPAccount postern', 'Host 127.0.0.1', `Port ${gw.port}`, `User ${user}`, `PassCmd "cat ${home}/pass"`,
      'SSLType None', 'AuthMechs LOGIN', '',
      'IMAPStore remote', 'Account postern', '',
      'MaildirStore local', `Path ${local}/`, `Inbox ${local}/INBOX`, 'SubFolders Verbatim', '',
      'Channel sync', 'Far :remote:', 'Near :local:', 'Patterns *', ...channel, 'SyncState *', '',
    ].join('\n'));
    return file;
  }

  /** Marks one local message deleted the way mail readers do in a Maildir (the T flag). */
  function trashOne(home: string): void {
    const [file] = maildirFiles(path.join(home, 'Mail', 'INBOX'));
    fs.renameSync(file!, file!.includes(':2,') ? `${file}T` : `${file}:2,T`);
  }

  it('syncs a full session both ways, local delete included', async () => {
    const u = await createMailUser(gw.ctx, 'mbs');
    await fillMailbox(u.username, { INBOX: 5, Work: 2 });
    const home = privateDir();
    const rc = config(home, u.username, u.app);
    const first = await run('mbsync', ['-c', rc, '-a'], home);
    expect(first.code, first.output).toBe(0);
    expect(maildirFiles(path.join(home, 'Mail', 'INBOX'))).toHaveLength(5);
    expect(maildirFiles(path.join(home, 'Mail', 'Work'))).toHaveLength(2);

    trashOne(home);
    const second = await run('mbsync', ['-c', rc, '-a'], home);
    expect(second.code, second.output).toBe(0);
    expect(await storeCount(u.username, 'INBOX')).toBe(4);
  });

  it('loses nothing in a restricted session, and says so', async () => {
    const u = await createMailUser(gw.ctx, 'mbr');
    await fillMailbox(u.username, { INBOX: 5 });
    const home = privateDir();
    const rc = config(home, u.username, u.restrictedApp);
    const first = await run('mbsync', ['-c', rc, '-a'], home);
    expect(first.code, first.output).toBe(0);
    const before = await snapshotMailbox(u.username);

    trashOne(home);
    const second = await run('mbsync', ['-c', rc, '-a'], home);
    expect(await storeCount(u.username, 'INBOX')).toBe(5);
    const after = await snapshotMailbox(u.username);
    expect(after.folders).toEqual(before.folders);
    expect(after.messages.INBOX!.map((m) => m.uid)).toEqual(before.messages.INBOX!.map((m) => m.uid));
    expect(after.messages.INBOX!.some((m) => m.flags.includes('\\Deleted'))).toBe(false);
    // What the user sees (README client table): mbsync prints the refusal and still exits 0.
    expect(second.output).toMatch(/NO \[NOPERM\].*\\Deleted/);
    expect(second.code).toBe(0);

    // With the README's setting it never asks: no refusal printed, still nothing lost.
    const quietRc = config(home, u.username, u.restrictedApp, ['Create Near', 'Expunge None', 'Sync Pull New Flags']);
    trashOne(home);
    const quiet = await run('mbsync', ['-c', quietRc, '-a'], home);
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toMatch(/NOPERM/);
    expect(await storeCount(u.username, 'INBOX')).toBe(5);
  });
});

describe('offlineimap3', () => {
  function config(home: string, user: MailUser, pass: string, readonly: boolean): string {
    writeSecretFile(path.join(home, 'pass'), pass);
    const file = path.join(home, 'offlineimaprc');
    writeSecretFile(file, [
      '[general]', 'accounts = postern', `metadata = ${home}/meta`, 'ui = basic', '',
      '[Account postern]', 'localrepository = local', 'remoterepository = remote', '',
      '[Repository local]', 'type = Maildir', `localfolders = ${home}/Mail`, '',
      '[Repository remote]', 'type = IMAP', 'remotehost = 127.0.0.1', `remoteport = ${gw.port}`,
      `remoteuser = ${user.username}`, `remotepassfile = ${home}/pass`, 'ssl = no', 'starttls = no',
      ...(readonly ? ['readonly = True'] : []), '',
    ].join('\n'));
    return file;
  }

  it('syncs a full session both ways, local delete included', async () => {
    const u = await createMailUser(gw.ctx, 'ofs');
    await fillMailbox(u.username, { INBOX: 4 });
    const home = privateDir();
    const rc = config(home, u, u.app, false);
    const first = await run('offlineimap', ['-c', rc, '-o', '-u', 'quiet'], home);
    expect(first.code, first.output).toBe(0);
    const files = maildirFiles(path.join(home, 'Mail', 'INBOX'));
    expect(files).toHaveLength(4);

    fs.rmSync(files[0]!);
    const second = await run('offlineimap', ['-c', rc, '-o', '-u', 'quiet'], home);
    expect(second.code, second.output).toBe(0);
    expect(await storeCount(u.username, 'INBOX')).toBe(3);
  });

  it('loses nothing in a restricted session; with readonly = True it exits cleanly', async () => {
    const u = await createMailUser(gw.ctx, 'ofr');
    await fillMailbox(u.username, { INBOX: 4 });
    const home = privateDir();
    const rc = config(home, u, u.restrictedApp, false);
    const first = await run('offlineimap', ['-c', rc, '-o', '-u', 'quiet'], home);
    expect(first.code, first.output).toBe(0);
    fs.rmSync(maildirFiles(path.join(home, 'Mail', 'INBOX'))[0]!);
    const refused = await run('offlineimap', ['-c', rc, '-o', '-u', 'quiet'], home);
    expect(await storeCount(u.username, 'INBOX')).toBe(4);
    // offlineimap3 8.0 cannot format any NO to its STORE (a bytes/str TypeError) and exits 1: the
    // README tells restricted users to set readonly = True.
    expect(refused.code).toBe(1);

    // The setting the README gives for restricted logins: the client never tries to delete.
    const readonlyRc = config(home, u, u.restrictedApp, true);
    const quiet = await run('offlineimap', ['-c', readonlyRc, '-o', '-u', 'quiet'], home);
    expect(quiet.code, quiet.output).toBe(0);
    expect(await storeCount(u.username, 'INBOX')).toBe(4);
  });
});

describe('fetchmail', () => {
  function config(home: string, user: string, pass: string, keep: boolean): string {
    const file = path.join(home, 'fetchmailrc');
    const out = path.join(home, 'delivered');
    writeSecretFile(file, [
      `poll 127.0.0.1 service ${gw.port} protocol IMAP auth password`,
      `  user "${user}" password "${pass}" is "${os.userInfo().username}" here`,
      `  ${keep ? 'keep' : 'nokeep'} sslproto "" mda "/bin/sh -c 'cat >> ${out}'"`, '',
    ].join('\n'));
    return file;
  }

  function delivered(home: string): number {
    const file = path.join(home, 'delivered');
    return fs.existsSync(file) ? (fs.readFileSync(file, 'latin1').match(/^Subject: Message /gm) ?? []).length : 0;
  }

  it('downloads and removes in a full session (its default)', async () => {
    const u = await createMailUser(gw.ctx, 'fms');
    await fillMailbox(u.username, { INBOX: 3 });
    const home = privateDir();
    const r = await run('fetchmail', ['-f', config(home, u.username, u.app, false), '--nosyslog', '-d0'], home);
    expect(r.code, r.output).toBe(0);
    expect(delivered(home)).toBe(3);
    expect(await storeCount(u.username, 'INBOX')).toBe(0);
  });

  it('loses nothing in a restricted session; with keep it downloads everything', async () => {
    const u = await createMailUser(gw.ctx, 'fmr');
    await fillMailbox(u.username, { INBOX: 3 });
    const home = privateDir();
    const refused = await run('fetchmail', ['-f', config(home, u.username, u.restrictedApp, false), '--nosyslog', '-d0'], home);
    expect(await storeCount(u.username, 'INBOX')).toBe(3);
    // Without keep, fetchmail expunges first, gets NO and gives up (exit 7, "expunge failed"): the
    // README tells restricted users to set keep.
    expect(refused.code).toBe(7);
    expect(refused.output).toMatch(/expunge failed/);

    const kept = privateDir();
    const r = await run('fetchmail', ['-f', config(kept, u.username, u.restrictedApp, true), '--nosyslog', '-d0', '--all'], kept);
    expect(r.code, r.output).toBe(0);
    expect(delivered(kept)).toBe(3);
    expect(await storeCount(u.username, 'INBOX')).toBe(3);
  });
});

describe('curl', () => {
  function netrc(home: string, user: string, pass: string): string {
    const file = path.join(home, 'netrc');
    writeSecretFile(file, `machine 127.0.0.1 login ${user} password ${pass}\n`);
    return file;
  }

  it('fetches a message byte-identical to the store in a full session', async () => {
    const u = await createMailUser(gw.ctx, 'crs');
    await fillMailbox(u.username, { INBOX: 2 });
    const home = privateDir();
    const r = await run('curl', ['-sS', '--netrc-file', netrc(home, u.username, u.app), `imap://127.0.0.1:${gw.port}/INBOX;UID=2`], home);
    expect(r.code, r.output).toBe(0);
    const c = await storeClient(u.username);
    try {
      await c.mailboxOpen('INBOX', { readOnly: true });
      const m = await c.fetchOne('2', { source: true }, { uid: true });
      expect(m && Buffer.from(r.output, 'latin1').equals(m.source!)).toBe(true);
    } finally {
      await c.logout();
    }
  });

  it('cannot flag \\Deleted or expunge in a restricted session', async () => {
    const u = await createMailUser(gw.ctx, 'crr');
    await fillMailbox(u.username, { INBOX: 2 });
    const home = privateDir();
    const before = await snapshotMailbox(u.username);
    const rc = netrc(home, u.username, u.restrictedApp);
    const store = await run('curl', ['-sS', '--netrc-file', rc, `imap://127.0.0.1:${gw.port}/INBOX`, '-X', 'UID STORE 1 +FLAGS (\\Deleted)'], home);
    expect(store.code).not.toBe(0);
    const expunge = await run('curl', ['-sS', '--netrc-file', rc, `imap://127.0.0.1:${gw.port}/INBOX`, '-X', 'EXPUNGE'], home);
    expect(expunge.code).not.toBe(0);
    expect(await snapshotMailbox(u.username)).toEqual(before);
  });
});
