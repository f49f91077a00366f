/**
 * `postern altlogin add|list|revoke`: alternative logins from the command line. Generated secrets (app
 * passwords, one-time code lists) are printed once and never again; chosen secrets (and a one-time
 * list's base password) are read from stdin, never from argv. `--valid-for 1h` makes a one-time list's
 * codes, or an SMS password's texted codes, work for one hour from first use.
 */
import {
  createAppPassword,
  createOneTimeList,
  createTotpLogin,
  createUserChosenLogin,
  findAltLogin,
  listAltLogins,
  parseServices,
  parseValidFor,
  revokeAltLogin,
} from '../accounts/alt-logins.js';
import { TOTP_ISSUER } from '../accounts/totp-enrolment.js';
import { requireUserByName } from '../accounts/users.js';
import { generateTotpSecret, groupedSecret, otpauthUri } from '../auth/totp.js';
import { loginKinds, type LoginKind } from '../db/schema.js';
import type { CliCommand } from './command.js';
import { parseCommandArgs } from './args.js';
import { UsageError, printJson, readSecretFromStdin } from './io.js';

const USAGE =
  'altlogin add NAME --kind password|otp|sms|app|totp [--restricted] [--services web,imap,smtp] [--label TEXT] [--count N] [--valid-for 1h] [--password-stdin] [--base-password-stdin] [--recovery] [--json] | list NAME [--json] | revoke ID';

export const altloginCommand: CliCommand = {
  name: 'altlogin',
  summary: 'add, list and revoke alternative logins',
  usage: USAGE,
  async run(args, io, ctx) {
    const { positionals, values } = parseCommandArgs(args, {
      kind: { type: 'string' },
      restricted: { type: 'boolean' },
      services: { type: 'string' },
      label: { type: 'string' },
      count: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      'base-password-stdin': { type: 'boolean' },
      'valid-for': { type: 'string' },
      recovery: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const [sub, arg, ...extra] = positionals;
    if (sub && !arg) throw new UsageError(`"${sub}" needs ${sub === 'revoke' ? 'an ID' : 'a NAME'}`);
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    switch (sub) {
      case 'add': {
        const kind = values.kind as LoginKind | undefined;
        if (!kind || !loginKinds.includes(kind)) throw new UsageError('--kind must be one of password, otp, sms, app, totp');
        const user = await requireUserByName(ctx, arg!);
        const services = values.services !== undefined ? parseServices(values.services) : undefined;
        const options = { userId: user.id, label: values.label, restricted: values.restricted ?? false, services };
        if (values['valid-for'] !== undefined && kind !== 'otp' && kind !== 'sms') throw new UsageError('--valid-for is for --kind otp or sms');
        if (values['base-password-stdin'] && kind !== 'otp') throw new UsageError('--base-password-stdin is for --kind otp');
        if (values.recovery && kind !== 'otp') throw new UsageError('--recovery is for --kind otp');
        const validForSeconds = values['valid-for'] !== undefined ? parseValidFor(values['valid-for']) : null;
        const validity = validForSeconds ? ', each code valid for 1 hour from first use' : '';
        if (kind === 'password' || kind === 'sms') {
          if (!values['password-stdin']) throw new UsageError(`--kind ${kind} reads the chosen password from standard input: add --password-stdin`);
          const login = await createUserChosenLogin(ctx, { ...options, kind, validForSeconds, secret: await readSecretFromStdin(io.stdin) });
          if (values.json) return printJson(io, { id: login.id, validForSeconds });
          io.stdout.write(`created ${kind === 'sms' ? 'SMS password' : 'alternate password'} ${login.id} for ${user.username}${validity}\n`);
          return;
        }
        if (kind === 'totp') {
          // The app's secret is drawn here and shown once, as the otpauth URI an app imports (or a QR
          // code made from it) and in groups of four; the password typed before each code comes from stdin.
          if (!values['password-stdin']) throw new UsageError('--kind totp reads the password typed before each code from standard input: add --password-stdin');
          const totpSecret = generateTotpSecret();
          const login = await createTotpLogin(ctx, { ...options, secret: await readSecretFromStdin(io.stdin), totpSecret });
          const uri = otpauthUri({ issuer: TOTP_ISSUER, account: user.username, secret: totpSecret });
          if (values.json) return printJson(io, { id: login.id, otpauthUri: uri });
          io.stdout.write(`Authenticator app ${login.id} for ${user.username} (shown once; add it to the app, then log in with the password immediately followed by the app's code):\n`);
          io.stdout.write(`${uri}\nsecret: ${groupedSecret(totpSecret)}\n`);
          return;
        }
        if (values['password-stdin']) throw new UsageError(`--kind ${kind} generates its secret: drop --password-stdin`);
        if (kind === 'app') {
          const { login, secret } = await createAppPassword(ctx, options);
          if (values.json) return printJson(io, { id: login.id, secret });
          io.stdout.write(`App password ${login.id} for ${user.username} (shown once, services ${login.services.join(',')}):\n${secret}\n`);
          return;
        }
        const count = values.count !== undefined ? Number(values.count) : undefined;
        if (count !== undefined && !/^\d+$/.test(values.count!)) throw new UsageError('--count must be a whole number');
        const basePassword = values['base-password-stdin'] ? await readSecretFromStdin(io.stdin) : null;
        const { login, codes } = await createOneTimeList(ctx, { ...options, count, validForSeconds, basePassword, recovery: values.recovery ?? false });
        if (values.json) return printJson(io, { id: login.id, validForSeconds, basePassword: basePassword !== null, codes });
        io.stdout.write(`One-time codes, list ${login.id} for ${user.username} (shown once; any previous list is void${validity}):\n`);
        if (basePassword) io.stdout.write('Type the base password first, then the code, with nothing between them.\n');
        for (const c of codes) io.stdout.write(`${String(c.n).padStart(4)}  ${c.code}\n`);
        return;
      }
      case 'list': {
        const user = await requireUserByName(ctx, arg!);
        const logins = await listAltLogins(ctx, user.id);
        if (values.json) return printJson(io, logins);
        if (!logins.length) io.stdout.write(`${user.username} has no alternative logins\n`);
        for (const l of logins) {
          const remaining =
            (l.kind === 'otp' ? ` remaining=${l.remainingCodes}/${l.totalCodes}` : '') +
            (l.validForSeconds ? ' valid-for=1h' : '') +
            (l.hasBasePassword ? ' base-password' : '') +
            (l.recovery ? ' recovery' : '');
          io.stdout.write(
            `${String(l.id).padStart(5)} ${l.kind.padEnd(8)} ${JSON.stringify(l.label)} services=${l.services.join(',')}` +
              `${l.restricted ? ' restricted' : ''}${remaining} uses=${l.useCount} last-used=${l.lastUsedAt?.toISOString() ?? 'never'}\n`,
          );
        }
        return;
      }
      case 'revoke': {
        if (!/^\d+$/.test(arg!)) throw new UsageError('ID must be a number (see `postern altlogin list NAME`)');
        const login = await findAltLogin(ctx, Number(arg));
        const revoked = await revokeAltLogin(ctx, { loginId: Number(arg) });
        io.stdout.write(`${login?.revokedAt ? 'already revoked' : 'revoked'}: ${revoked.kind} login ${revoked.id}\n`);
        return;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
    }
  },
};
