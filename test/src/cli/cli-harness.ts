/** Runs `postern …` in-process through the real dispatcher (runCli) against a test context. */
import { PassThrough, Readable } from 'node:stream';
import type { AppContext } from '../../../src/context.js';
import type { CliCommand } from '../../../src/cli/command.js';
import { commands } from '../../../src/cli/commands.js';
import { runCli } from '../../../src/cli/run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function postern(ctx: AppContext, argv: string[], stdin = ''): Promise<CliRun> {
  // The commands get the test's context instead of opening the configured database.
  const bound: CliCommand[] = commands.map((c) => ({ ...c, needsContext: false, run: (args, io) => c.run(args, io, ctx) }));
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runCli(argv, bound, { stdout, stderr, stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []) });
  return { code, stdout: out, stderr: err };
}
