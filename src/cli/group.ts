/** `postern group create|add-member|remove-member|set|list`: businesses and families. */
import {
  addGroupMember,
  createGroup,
  listGroupMembers,
  removeGroupMember,
  requireGroupByName,
  setGroupAdmin,
  setGroupAllowSms,
  type GroupKind,
} from '../accounts/groups.js';
import { addGroupDomain } from '../accounts/group-domains.js';
import { requireUserByName } from '../accounts/users.js';
import type { CliCommand } from './command.js';
import { parseCommandArgs } from './args.js';
import { UsageError, printJson } from './io.js';

const USAGE =
  'group create NAME --kind business|family [--allow-sms] | add-member GROUP USER [--admin] | remove-member GROUP USER | set-admin GROUP USER | set GROUP --allow-sms on|off | members GROUP [--json] | domain add GROUP DOMAIN';

function onOff(value: string | undefined, flag: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`${flag} must be "on" or "off"`);
}

export const groupCommand: CliCommand = {
  name: 'group',
  summary: 'businesses and families: create, members, preferences',
  usage: USAGE,
  async run(args, io, ctx) {
    // --allow-sms is a flag for `create` and takes on|off for `set`: parse it by subcommand.
    const sub = args[0];
    const { positionals, values } = parseCommandArgs(args, {
      kind: { type: 'string' },
      admin: { type: 'boolean' },
      json: { type: 'boolean' },
      'allow-sms': sub === 'set' ? { type: 'string' } : { type: 'boolean' },
    });
    const operands = positionals.slice(1);
    const need = (n: number, what: string) => {
      if (operands.length !== n) throw new UsageError(`"${sub}" needs ${what}`);
    };
    switch (sub) {
      case 'create': {
        need(1, 'a NAME');
        const kind = values.kind as GroupKind | undefined;
        if (kind !== 'business' && kind !== 'family') throw new UsageError('--kind must be business or family');
        const group = await createGroup(ctx, { name: operands[0]!, kind, allowSms: values['allow-sms'] === true });
        if (values.json) return printJson(io, group);
        io.stdout.write(`created ${group.kind} "${group.name}" (id ${group.id}), SMS logins ${group.allowSms ? 'allowed' : 'not allowed'}\n`);
        return;
      }
      case 'add-member':
      case 'remove-member': {
        need(2, 'GROUP and USER');
        const group = await requireGroupByName(ctx, operands[0]!);
        const user = await requireUserByName(ctx, operands[1]!);
        if (sub === 'add-member') {
          await addGroupMember(ctx, { groupId: group.id, userId: user.id, isAdmin: values.admin ?? false });
          io.stdout.write(`${user.username} added to "${group.name}"${values.admin ? ' as administrator' : ''}\n`);
        } else {
          await removeGroupMember(ctx, { groupId: group.id, userId: user.id });
          io.stdout.write(`${user.username} removed from "${group.name}"\n`);
        }
        return;
      }
      case 'set-admin': {
        need(2, 'GROUP and USER');
        const group = await requireGroupByName(ctx, operands[0]!);
        const user = await requireUserByName(ctx, operands[1]!);
        await setGroupAdmin(ctx, { groupId: group.id, userId: user.id, isAdmin: true });
        io.stdout.write(`${user.username} is now an administrator of "${group.name}"\n`);
        return;
      }
      case 'set': {
        need(1, 'a GROUP');
        if (values['allow-sms'] === undefined) throw new UsageError('nothing to set: use --allow-sms on|off');
        const group = await requireGroupByName(ctx, operands[0]!);
        const updated = await setGroupAllowSms(ctx, { groupId: group.id, allowSms: onOff(values['allow-sms'] as string, '--allow-sms') });
        io.stdout.write(`"${updated.name}": SMS logins ${updated.allowSms ? 'allowed' : 'not allowed'}\n`);
        return;
      }
      case 'members': {
        need(1, 'a GROUP');
        const group = await requireGroupByName(ctx, operands[0]!);
        const members = await listGroupMembers(ctx, group.id);
        if (values.json) return printJson(io, { ...group, members });
        io.stdout.write(`${group.kind} "${group.name}", SMS logins ${group.allowSms ? 'allowed' : 'not allowed'}\n`);
        for (const m of members) io.stdout.write(`  ${m.username}${m.isAdmin ? ' (administrator)' : ''}\n`);
        return;
      }
      case 'domain': {
        if (operands[0] !== 'add' || operands.length !== 3) throw new UsageError('"domain" needs: add GROUP DOMAIN');
        const group = await requireGroupByName(ctx, operands[1]!);
        const domain = await addGroupDomain(ctx, { groupId: group.id, domain: operands[2]! });
        io.stdout.write(`${domain} now belongs to "${group.name}": its administrators can give members addresses in it\n`);
        return;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
    }
  },
};
