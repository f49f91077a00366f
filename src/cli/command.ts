import type { AppContext } from '../context.js';
import type { CliIo } from './io.js';

/**
 * One top-level CLI command (`postern <name> …`). `needsContext: false` commands run without opening the
 * database (e.g. `help`); the others get a migrated AppContext.
 */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  needsContext?: boolean;
  run(args: string[], io: CliIo, ctx: AppContext): Promise<number | void>;
}
