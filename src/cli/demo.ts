/**
 * `postern demo seed`: a demo account for trying Postern on the embedded database. The credentials are
 * printed, and kept under DATA_DIR (mode 0600) so later starts can print them again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { createUser, findUserByName } from '../accounts/users.js';
import type { CliCommand } from './command.js';
import { printJson } from './io.js';
import { parseCommandArgs } from './args.js';

export const DEMO_USERNAME = 'demo';
/** Local to the dev stack: the dev MTA delivers mail for it into the demo's INBOX. */
export const DEMO_EMAIL = 'demo@postern.test';

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
  await createUser(ctx, { username: DEMO_USERNAME, password, email: DEMO_EMAIL });
  const credentials: DemoCredentials = { username: DEMO_USERNAME, password };
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
