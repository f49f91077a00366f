/**
 * `postern <command> …`: dispatch, error reporting and exit codes. Bad input → one line on stderr and a
 * non-zero exit; nothing half-written (each command does its writes in one transaction).
 */
import { ConfigError, loadConfig, setConfig } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import { isPosternError } from '../errors.js';
import { log } from '../log.js';
import { hasControlCharacters } from '../control-characters.js';
import type { CliCommand } from './command.js';
import { UsageError, type CliIo } from './io.js';

export async function runCli(argv: string[], commands: CliCommand[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const command = commands.find((c) => c.name === name);
  if (!name || name === 'help' || name === '--help' || !command) {
    const list = commands.map((c) => `  ${c.usage.padEnd(52)} ${c.summary}`).join('\n');
    const out = `usage: postern <command> [options]\n\n${list}\n`;
    if (name && name !== 'help' && name !== '--help') {
      io.stderr.write(`postern: unknown command "${name}"\n${out}`);
      return 2;
    }
    io.stdout.write(out);
    return 0;
  }
  // Arguments reach names, labels and the database: a control character (a pasted escape sequence, a NUL
  // PostgreSQL would refuse) is one line and exit 2, before anything is opened or written.
  const bad = args.findIndex((a) => hasControlCharacters(a, { allowLineBreaks: false }));
  if (bad >= 0) {
    io.stderr.write(`postern ${command.name}: argument ${bad + 1} contains a control character (such as NUL or ESC); retype it\n`);
    return 2;
  }
  let ctx: AppContext | undefined;
  try {
    const config = loadConfig();
    setConfig(config);
    if (command.needsContext !== false) ctx = await createContext(config);
    const code = await command.run(args, io, ctx as AppContext);
    return code ?? 0;
  } catch (e) {
    return reportError(e, command, io);
  } finally {
    if (ctx && command.name !== 'serve') await ctx.database.close();
  }
}

function reportError(e: unknown, command: CliCommand, io: CliIo): number {
  if (e instanceof UsageError) {
    io.stderr.write(`postern ${command.name}: ${e.message}\nusage: postern ${command.usage}\n`);
    return 2;
  }
  if (e instanceof ConfigError || isPosternError(e)) {
    const message = isPosternError(e) ? e.userMessage : e.message;
    io.stderr.write(`postern ${command.name}: ${message}\n`);
    return 1;
  }
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code) && e instanceof Error) {
    io.stderr.write(`postern ${command.name}: ${e.message}\n`);
    return 1;
  }
  log.error({ err: e, command: command.name }, 'cli command failed');
  io.stderr.write(`postern ${command.name}: internal error (see the log)\n`);
  return 1;
}
