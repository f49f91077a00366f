/** `postern personality verify USER ADDRESS`: an operator vouches that an address is the user's. */
import { and, eq, sql } from 'drizzle-orm';
import { proveAddress } from '../accounts/address-proofs.js';
import { normalizeAddress } from '../accounts/addresses.js';
import { requireUserByName } from '../accounts/users.js';
import { personalities } from '../db/schema.js';
import { PosternError } from '../errors.js';
import type { CliCommand } from './command.js';
import { parseCommandArgs } from './args.js';
import { UsageError } from './io.js';

export const personalityCommand: CliCommand = {
  name: 'personality',
  summary: 'verify a personality address as an operator',
  usage: 'personality verify USER ADDRESS',
  async run(args, io, ctx) {
    const { positionals } = parseCommandArgs(args, {});
    if (positionals[0] !== 'verify') throw new UsageError(positionals[0] ? `unknown subcommand "${positionals[0]}"` : 'missing subcommand');
    if (positionals.length !== 3) throw new UsageError('"verify" needs USER and ADDRESS');
    const user = await requireUserByName(ctx, positionals[1]!);
    const address = normalizeAddress(positionals[2]!);
    // Only an address the user already put on a personality: the operator confirms, the user chose.
    const [p] = await ctx.db
      .select({ id: personalities.id })
      .from(personalities)
      .where(and(eq(personalities.userId, user.id), sql`lower(${personalities.email}) = ${address}`));
    if (!p) throw new PosternError('PERSONALITY_NOT_FOUND', { message: `${user.username} has no personality with the address ${address}.` });
    await proveAddress(ctx.db, { userId: user.id, address, by: 'operator' });
    io.stdout.write(`${address} is now a verified address of ${user.username}\n`);
  },
};
