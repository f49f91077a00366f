/**
 * Rights that tell the truth: in a restricted session the gateway removes the rights that take mail
 * away (src/restricted/rules.ts) from every response that reports rights, so that clients which read
 * them (neomutt, Thunderbird, Apple Mail) hide "delete" before the user tries, whatever the store's
 * own ACLs say. Rights appear in MYRIGHTS (also sent for LIST … RETURN (MYRIGHTS), RFC 8440), ACL and
 * LISTRIGHTS responses (RFC 4314 §3.6–3.8).
 */
import { RIGHTS_THAT_TAKE_AWAY } from '../../src/restricted/rules.js';

export const RIGHTS_RESPONSES: ReadonlySet<string> = new Set(['MYRIGHTS', 'ACL', 'LISTRIGHTS']);

interface Token {
  text: string;
  /** The token's value (a quoted string unescaped). */
  value: string;
}

/** Splits the arguments of a rights response into atoms and quoted strings; null on anything else (a literal). */
function tokenize(args: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < args.length) {
    if (args[i] === ' ') {
      i++;
      continue;
    }
    if (args[i] === '"') {
      let value = '';
      let j = i + 1;
      for (; j < args.length && args[j] !== '"'; j++) {
        if (args[j] === '\\') j++;
        value += args[j] ?? '';
      }
      if (j >= args.length) return null;
      tokens.push({ text: args.slice(i, j + 1), value });
      i = j + 1;
      continue;
    }
    const end = args.indexOf(' ', i);
    const text = args.slice(i, end === -1 ? args.length : end);
    if (/[{}()]/.test(text)) return null;
    tokens.push({ text, value: text });
    i += text.length;
  }
  return tokens;
}

function withoutTakingAway(rights: string): string {
  const kept = [...rights].filter((r) => !RIGHTS_THAT_TAKE_AWAY.includes(r.toLowerCase())).join('');
  return kept === '' ? '""' : kept;
}

/** Which argument positions (after the keyword) hold rights, for each response. */
function isRightsPosition(keyword: string, index: number): boolean {
  switch (keyword) {
    case 'MYRIGHTS':
      return index === 1; // mailbox rights
    case 'ACL':
      return index >= 2 && index % 2 === 0; // mailbox (identifier rights)*
    default:
      return index >= 2; // LISTRIGHTS mailbox identifier required optional*
  }
}

/**
 * The response line `* KEYWORD …` with the rights a restricted session lacks removed, or null when
 * the line cannot be read safely (a literal in it): the caller must then not relay it as it is.
 */
export function restrictRights(keyword: string, line: string): string | null {
  keyword = keyword.toUpperCase();
  const prefix = new RegExp(`^\\* ${keyword} `, 'i').exec(line);
  if (!prefix) return null;
  const tokens = tokenize(line.slice(prefix[0].length));
  if (!tokens || tokens.length < 2) return null;
  const args: string[] = [];
  tokens.forEach((t, i) => {
    if (!isRightsPosition(keyword, i)) return args.push(t.text);
    const kept = withoutTakingAway(t.value);
    // LISTRIGHTS' optional groups (after the required set) are only listed when something is left.
    if (!(keyword === 'LISTRIGHTS' && i >= 3 && kept === '""')) args.push(kept);
  });
  return `${prefix[0]}${args.join(' ')}`;
}
