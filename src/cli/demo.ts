/**
 * `postern demo seed`: a demo account for trying Postern on the embedded database. The credentials are
 * printed, and kept under DATA_DIR (mode 0600) so later starts can print them again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { createAppPassword, createOneTimeList, createUserChosenLogin } from '../accounts/alt-logins.js';
import { addGroupMember, createGroup } from '../accounts/groups.js';
import { createUser, findUserByName } from '../accounts/users.js';
import { grantCredits } from '../credits/grant.js';
import type { CliCommand } from './command.js';
import { printJson } from './io.js';
import { parseCommandArgs } from './args.js';

export const DEMO_USERNAME = 'demo';
/** Local to the dev stack: the dev MTA delivers mail for it into the demo's INBOX. */
export const DEMO_EMAIL = 'demo@postern.test';
/** A number from the NANP range reserved for fiction (555-01XX): the console provider "sends" to it. */
export const DEMO_MOBILE = '+14155550142';
export const DEMO_GROUP = 'Demo Family';
const DEMO_GROUP_CREDITS = 20;
const DEMO_PRINTED_CODES = 5;

export interface DemoCredentials {
  username: string;
  password: string;
  [extra: string]: unknown;
}

function credentialsFile(ctx: AppContext): string {
  return path.join(ctx.config.DATA_DIR, 'demo-credentials.json');
}

/** Creates the demo account unless it exists; returns its credentials (null when seeded elsewhere). */
export async function seedDemo(ctx: AppContext): Promise<{ created: boolean; credentials: DemoCredentials | null }> {
  const file = credentialsFile(ctx);
  if (await findUserByName(ctx, DEMO_USERNAME)) {
    const saved = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as DemoCredentials) : null;
    return { created: false, credentials: saved };
  }
  const password = `demo-${crypto.randomBytes(6).toString('base64url')}`;
  const smsPassword = `sms-${crypto.randomBytes(6).toString('base64url')}`;
  const user = await createUser(ctx, { username: DEMO_USERNAME, password, email: DEMO_EMAIL, mobile: DEMO_MOBILE });
  // A family that pays for its members' SMS codes, with the demo as its administrator.
  const group = await createGroup(ctx, { name: DEMO_GROUP, kind: 'family', allowSms: true });
  await addGroupMember(ctx, { groupId: group.id, userId: user.id, isAdmin: true });
  await grantCredits(ctx, { owner: { groupId: group.id }, credits: DEMO_GROUP_CREDITS, reason: 'demo seed' });
  await createUserChosenLogin(ctx, { userId: user.id, kind: 'sms', secret: smsPassword, label: 'Demo SMS password', restricted: true });
  const app = await createAppPassword(ctx, { userId: user.id, label: 'Demo mail client', services: ['imap', 'smtp'] });
  const restrictedApp = await createAppPassword(ctx, { userId: user.id, label: 'Demo restricted client', restricted: true, services: ['imap'] });
  const otp = await createOneTimeList(ctx, { userId: user.id, label: 'Demo printed list', restricted: true, count: 20 });
  const credentials: DemoCredentials = {
    username: DEMO_USERNAME,
    password,
    'sms password (restricted; code on /demo/phone)': smsPassword,
    'app password (IMAP/SMTP)': app.secret,
    'restricted app password (IMAP)': restrictedApp.secret,
    'one-time codes (restricted)': otp.codes.slice(0, DEMO_PRINTED_CODES).map((c) => `${c.n}:${c.code}`),
  };
  fs.mkdirSync(ctx.config.DATA_DIR, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return { created: true, credentials };
}

export function formatDemoCredentials(c: DemoCredentials): string {
  const lines = [`  username: ${c.username}`, `  password: ${c.password}`];
  for (const [k, v] of Object.entries(c)) {
    if (k !== 'username' && k !== 'password') lines.push(`  ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`);
  }
  return lines.join('\n');
}

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'create the demo account (demo seed)',
  usage: 'demo seed [--json]',
  async run(args, io, ctx) {
    const { positionals, values } = parseCommandArgs(args, { json: { type: 'boolean' } });
    if (positionals[0] !== 'seed') {
      io.stderr.write('usage: postern demo seed [--json]\n');
      return 2;
    }
    const { created, credentials } = await seedDemo(ctx);
    if (values.json) return printJson(io, { created, credentials });
    io.stdout.write(created ? 'Demo account created:\n' : 'The demo account already exists.\n');
    if (credentials) io.stdout.write(formatDemoCredentials(credentials) + '\n');
  },
};
