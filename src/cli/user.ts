/**
 * `postern user add|passwd|disable|enable|list`: operator account management. Passwords come from
 * standard input only (`--password-stdin`), never from argv, which every local user can read.
 */
import { findGroupOfUser } from '../accounts/groups.js';
import { createUser, listUsers, requireUserByName, setPassword, setUserDisabled } from '../accounts/users.js';
import type { CliCommand } from './command.js';
import { parseCommandArgs } from './args.js';
import { UsageError, printJson, readSecretFromStdin, type CliIo } from './io.js';

const USAGE = 'user add NAME [--email ADDR] [--mobile +E164] [--upstream-user NAME] --password-stdin | passwd NAME --password-stdin | disable NAME | enable NAME | list [--json]';

function onlyName(positionals: string[]): string {
  if (positionals.length !== 2) throw new UsageError(`expected exactly one NAME after "${positionals[0]}"`);
  return positionals[1]!;
}

export const userCommand: CliCommand = {
  name: 'user',
  summary: 'add, list, disable users; set a password',
  usage: USAGE,
  async run(args, io: CliIo, ctx) {
    const { positionals, values } = parseCommandArgs(args, {
      email: { type: 'string' },
      mobile: { type: 'string' },
      'upstream-user': { type: 'string' },
      'password-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    switch (positionals[0]) {
      case 'add': {
        const name = onlyName(positionals);
        const password = values['password-stdin'] ? await readSecretFromStdin(io.stdin) : undefined;
        const user = await createUser(ctx, { username: name, password, email: values.email, mobile: values.mobile, upstreamUser: values['upstream-user'] });
        if (values.json) return printJson(io, { id: user.id, username: user.username, upstreamUser: user.upstreamUser, mustChangePassword: user.mustChangePassword });
        io.stdout.write(`created user ${user.username} (id ${user.id})${password ? '' : '; no password yet: set one with `postern user passwd`'}\n`);
        return;
      }
      case 'passwd': {
        const user = await requireUserByName(ctx, onlyName(positionals));
        if (!values['password-stdin']) throw new UsageError('the new password is read from standard input: add --password-stdin');
        await setPassword(ctx, { userId: user.id, password: await readSecretFromStdin(io.stdin) });
        io.stdout.write(`password of ${user.username} changed\n`);
        return;
      }
      case 'disable':
      case 'enable': {
        const user = await requireUserByName(ctx, onlyName(positionals));
        await setUserDisabled(ctx, { userId: user.id, disabled: positionals[0] === 'disable' });
        io.stdout.write(`${user.username} ${positionals[0]}d\n`);
        return;
      }
      case 'list': {
        const rows = await Promise.all(
          (await listUsers(ctx)).map(async (u) => ({
            id: u.id,
            username: u.username,
            upstreamUser: u.upstreamUser,
            disabled: u.disabled,
            group: (await findGroupOfUser(ctx, u.id))?.name ?? null,
          })),
        );
        if (values.json) return printJson(io, rows);
        for (const r of rows)
          io.stdout.write(`${r.username.padEnd(24)} upstream=${r.upstreamUser}${r.disabled ? ' DISABLED' : ''}${r.group ? ` group=${r.group}` : ''}\n`);
        return;
      }
      default:
        throw new UsageError(positionals[0] ? `unknown subcommand "${positionals[0]}"` : 'missing subcommand');
    }
  },
};
