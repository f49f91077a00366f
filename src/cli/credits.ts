/**
 * `postern credits grant|balance`: operators' view of SMS credits. Owners are found by name with plain
 * lookups (usernames are stored lowercase). A grant is a ledger `adjustment` with the reason given.
 */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { findCreditAccount, type CreditOwner } from '../credits/accounts.js';
import { grantCredits } from '../credits/grant.js';
import { checkLedgerConsistency } from '../credits/ledger.js';
import { groups, users } from '../db/schema.js';
import { PosternError } from '../errors.js';
import { parseCommandArgs } from './args.js';
import type { CliCommand } from './command.js';
import { printJson, UsageError } from './io.js';

const ownerOptions = {
  group: { type: 'string' },
  user: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface NamedOwner {
  owner: CreditOwner;
  /** "group Acme" or "user alice", for messages. */
  label: string;
  json: { group: string } | { user: string };
}

async function resolveOwner(ctx: AppContext, values: { group?: string; user?: string }): Promise<NamedOwner> {
  if (Boolean(values.group) === Boolean(values.user)) throw new UsageError('give exactly one of --group NAME and --user NAME');
  if (values.group) {
    const name = values.group.trim();
    const [group] = await ctx.db.select({ id: groups.id, name: groups.name }).from(groups).where(eq(groups.name, name));
    if (!group) throw new PosternError('GROUP_NOT_FOUND', { message: `There is no business or family named "${name}".` });
    return { owner: { groupId: group.id }, label: `group ${group.name}`, json: { group: group.name } };
  }
  const name = values.user!.trim().toLowerCase();
  const [user] = await ctx.db.select({ id: users.id, username: users.username }).from(users).where(eq(users.username, name));
  if (!user) throw new PosternError('USER_NOT_FOUND', { message: `There is no user named "${name}".` });
  return { owner: { userId: user.id }, label: `user ${user.username}`, json: { user: user.username } };
}

export const creditsCommand: CliCommand = {
  name: 'credits',
  summary: 'grant SMS credits or show a balance',
  usage: 'credits grant|balance (--group NAME | --user NAME) [N] [--reason TEXT] [--json]',
  async run(args, io, ctx) {
    // A negative correction ("-5") would read as an option: it goes after "--" (credits grant --user x -- -5).
    const { positionals, values } = parseCommandArgs(args, ownerOptions);
    const [action, amount, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (action === 'balance') {
      if (amount !== undefined) throw new UsageError(`unexpected argument "${amount}"`);
      const named = await resolveOwner(ctx, values);
      const account = await findCreditAccount(ctx.db, named.owner);
      const check = account ? await checkLedgerConsistency(ctx.db, account.id) : { balance: 0, ledgerSum: 0, consistent: true };
      if (values.json) return printJson(io, { balance: check.balance, ...named.json, ledgerBalance: check.ledgerSum, consistent: check.consistent });
      io.stdout.write(`${named.label}: ${check.balance} SMS credit${check.balance === 1 ? '' : 's'}\n`);
      if (!check.consistent) {
        io.stderr.write(`warning: the ledger sums to ${check.ledgerSum}, not ${check.balance}\n`);
        return 1;
      }
      return 0;
    }
    if (action === 'grant') {
      if (amount === undefined || !/^-?\d+$/.test(amount)) throw new UsageError('give the number of credits, e.g. 50');
      const named = await resolveOwner(ctx, values);
      const credits = Number(amount);
      const balance = await grantCredits(ctx, { owner: named.owner, credits, reason: values.reason ?? null });
      if (values.json) return printJson(io, { balance, ...named.json, granted: credits });
      io.stdout.write(`${credits >= 0 ? 'granted' : 'removed'} ${Math.abs(credits)} SMS credits ${credits >= 0 ? 'to' : 'from'} ${named.label}; balance ${balance}\n`);
      return 0;
    }
    throw new UsageError(action ? `unknown action "${action}"` : 'give an action: grant or balance');
  },
};
