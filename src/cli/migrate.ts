import type { CliCommand } from './command.js';

/** Migrations already ran while the context was created; this command only reports it. */
export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'apply database migrations',
  usage: 'migrate',
  async run(_args, io, ctx) {
    io.stdout.write(`migrations applied (${ctx.database.driver})\n`);
  },
};
