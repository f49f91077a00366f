/**
 * Composition root: the domain's CLI (src/cli) plus `serve`, which wires the web and the mail gateways.
 * It lives outside src/ because src/ never imports the fronts.
 */
import { commands } from '../src/cli/commands.js';
import { runCli } from '../src/cli/run.js';
import { serveCommand } from './serve.js';

export function main(argv: string[]): Promise<number> {
  return runCli(argv, [serveCommand, ...commands], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
}
