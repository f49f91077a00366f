/**
 * A browser's User-Agent in a few words ("Chrome 131 on Linux", "Firefox 133 on Windows"), for login
 * notices and the session list: enough to recognise one's own devices. A handful of patterns instead of a
 * parser: the string is whatever the client sent, so it is only ever shown, never trusted, and anything
 * not recognised is "Browser".
 */

/** Order matters: Edge and Opera also say Chrome, Chrome also says Safari. */
const BROWSERS: Array<[name: string, pattern: RegExp]> = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\bOPR\/(\d+)/],
  ['Samsung Internet', /\bSamsungBrowser\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chromium', /\bChromium\/(\d+)/],
  ['Chrome', /\b(?:Chrome|CriOS)\/(\d+)/],
  ['Safari', /\bVersion\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//],
];

const SYSTEMS: Array<[name: string, pattern: RegExp]> = [
  ['Android', /\bAndroid\b/],
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['Windows', /\bWindows\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['Linux', /\bLinux\b/],
];

/** The short form, or undefined when there is no User-Agent at all. */
export function shortUserAgent(ua: string | null | undefined): string | undefined {
  if (!ua) return undefined;
  const s = ua.slice(0, 512);
  const found = BROWSERS.find(([, re]) => re.test(s));
  const browser = found ? `${found[0]} ${found[1].exec(s)![1]}` : 'Browser';
  const system = SYSTEMS.find(([, re]) => re.test(s))?.[0];
  return system ? `${browser} on ${system}` : browser;
}
