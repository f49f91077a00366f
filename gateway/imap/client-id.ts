/**
 * What an IMAP client calls itself (RFC 2971 ID, sent before login by Thunderbird, Apple Mail, imapflow…),
 * kept per connection so that the login, its notice ("Client: Thunderbird 128.3") and the live-session
 * list can name the client. Only `name` and `version` are kept, printable and short (src/client-name.ts):
 * the values are the client's choice and end up in mail and on the Security page.
 */
import { clientName, cleanPart } from '../../src/client-name.js';
import type { Arg, Command } from './command-ast.js';

const clientNames = new WeakMap<object, string>();

function text(arg: Arg | undefined): string | null {
  if (arg?.type !== 'string' && arg?.type !== 'atom') return null;
  return cleanPart(typeof arg.value === 'string' ? arg.value : arg.value.toString('utf8'));
}

/** "name version" from the ID parameter list, or null when the client named nothing. */
export function clientNameFromId(command: Command): string | null {
  const list = command.args[0];
  if (list?.type !== 'list') return null;
  let name: string | null = null;
  let version: string | null = null;
  for (let i = 0; i + 1 < list.items.length; i += 2) {
    const key = text(list.items[i])?.toLowerCase();
    if (key === 'name') name = text(list.items[i + 1]);
    else if (key === 'version') version = text(list.items[i + 1]);
  }
  return name ? clientName(name, version) : null;
}

/** Remembers the client's ID for this connection (the last ID wins, as RFC 2971 §3.1 allows repeats). */
export function rememberClientId(connection: object, command: Command): void {
  const name = clientNameFromId(command);
  if (name) clientNames.set(connection, name);
}

/** The client's name for this connection, when it sent an ID. */
export function clientNameOf(connection: object): string | undefined {
  return clientNames.get(connection);
}
