/**
 * Text from the outside (issue 11): NUL and the other control characters (C0 but tab, line feed and
 * carriage return; DEL; C1). Nobody types them, PostgreSQL refuses NUL in text and jsonb, and they hide
 * things in logs, names and terminals. The web refuses them in every form (web/middleware/session.ts);
 * the CLI and the login core use this.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL_BUT_TAB = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/;

export function hasControlCharacters(text: string, options: { allowLineBreaks?: boolean } = {}): boolean {
  return (options.allowLineBreaks === false ? ANY_CONTROL_BUT_TAB : CONTROL_CHARACTERS).test(text);
}
