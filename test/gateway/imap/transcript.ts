/**
 * Runs a transcript from test/fixtures/imap/*.txt on a raw connection: `C:` lines are sent (CRLF added,
 * `{LF}` `{CR}` `{CRLF}` stand for raw bytes), `S:` waits for the next response line starting with the
 * text, `N:` asserts no response line matched the regular expression. `#` lines are comments.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RawClient } from './live-gateway.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/imap');

function bytes(text: string): string {
  return text.replaceAll('{CRLF}', '\r\n').replaceAll('{LF}', '\n').replaceAll('{CR}', '\r');
}

/** Plays the transcript; throws with the transcript so far when an expectation is not met. */
export async function runTranscript(client: RawClient, name: string): Promise<void> {
  const lines = fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n');
  let cursor = client.text.length;
  for (const line of lines) {
    if (line.startsWith('C: ')) client.send(`${bytes(line.slice(3))}\r\n`);
    else if (line.startsWith('S: ')) {
      const expected = line.slice(3);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const rest = client.text.slice(cursor);
        const at = rest.split('\r\n').findIndex((l, i, all) => i < all.length - 1 && l.startsWith(expected));
        if (at >= 0) {
          const consumed = rest.split('\r\n').slice(0, at + 1).join('\r\n').length + 2;
          cursor += consumed;
          break;
        }
        if (client.closed || Date.now() > deadline) throw new Error(`${name}: no line starting with "${expected}"; got:\n${client.text}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    } else if (line.startsWith('N: ')) {
      const forbidden = new RegExp(`^${line.slice(3)}`, 'm');
      if (forbidden.test(client.text)) throw new Error(`${name}: a line matched ${forbidden}; got:\n${client.text}`);
    }
  }
}
