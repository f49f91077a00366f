/** What a CLI command may touch: its arguments, the streams, and a way to read a secret from stdin. */
import { PosternError } from '../errors.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/** Usage mistakes: printed as one line with the usage hint, exit code 2. */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';
}

/** Reads a secret from standard input (never argv: argv is visible to every user of the machine). */
export async function readSecretFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!secret) throw new PosternError('INVALID_INPUT', { message: 'no secret on standard input' });
  return secret;
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value) + '\n');
}
