/** The command table of `postern`: one line per command group; each lives in its own file. */
import type { CliCommand } from './command.js';
import { demoCommand } from './demo.js';
import { migrateCommand } from './migrate.js';

export const commands: CliCommand[] = [migrateCommand, demoCommand];
