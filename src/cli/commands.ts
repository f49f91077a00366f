/** The command table of `postern`: one line per command group; each lives in its own file. */
import type { CliCommand } from './command.js';
import { altloginCommand } from './altlogin.js';
import { creditsCommand } from './credits.js';
import { demoCommand } from './demo.js';
import { groupCommand } from './group.js';
import { migrateCommand } from './migrate.js';
import { personalityCommand } from './personality.js';
import { userCommand } from './user.js';

export const commands: CliCommand[] = [migrateCommand, demoCommand, userCommand, personalityCommand, altloginCommand, groupCommand, creditsCommand];
