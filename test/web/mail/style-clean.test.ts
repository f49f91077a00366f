/** The washing of an HTML mail's <style> blocks (web/mail/style-clean.ts): table tests, one line each. */
import { describe, expect, it } from 'vitest';
import { cleanStyleSheet, styleBlocks } from '../../../web/mail/style-clean.js';

describe('cleanStyleSheet', () => {
  const cases: Array<[string, string, string]> = [
    ['scopes a rule under the message wrapper', 'p { color: red }', '#postern-message p { color: red }'],
    ['treats body, html and :root as the wrapper', 'body { margin: 0 } html body .a { color: red } :root { color: blue }', '#postern-message { margin: 0 } #postern-message .a { color: red } #postern-message { color: blue }'],
    ['scopes every selector of a list', 'h1, .x > a { color: red }', '#postern-message h1, #postern-message .x > a { color: red }'],
    ['keeps @media around rules', '@media (max-width: 600px) { .c { width: 100% } }', '@media (max-width: 600px) { #postern-message .c { width: 100% } }'],
    ['drops @import', '@import url(https://evil.example/a.css); p { color: red }', '#postern-message p { color: red }'],
    ['drops @import without url()', '@import "https://evil.example/a.css"; p { color: red }', '#postern-message p { color: red }'],
    ['drops @font-face (it fetches fonts)', '@font-face { font-family: x; src: url(https://evil.example/f.woff) }', ''],
    ['drops url() in a value, keeps the rest of the rule', 'p { background: url(https://evil.example/t.gif); color: red }', '#postern-message p { color: red }'],
    ['drops image-set()', 'p { background-image: image-set("https://evil.example/a.png" 1x) }', ''],
    ['drops expression()', 'p { width: expression(alert(1)) }', ''],
    ['drops behavior and -moz-binding', 'p { behavior: url(x.htc); -moz-binding: url(x.xml#y); color: red }', '#postern-message p { color: red }'],
    ['drops a value spelled with CSS escapes', 'p { background: u\\72l(https://evil.example/e) }', ''],
    ['drops a property spelled with CSS escapes', 'p { b\\61 ckground: red; color: blue }', '#postern-message p { color: blue }'],
    ['drops a selector that could close the style element', 'p</style><script>x{color:red}', ''],
    ['answers nothing for CSS that does not parse', 'p { color: red', ''],
  ];
  for (const [name, css, want] of cases) {
    it(name, () => expect(cleanStyleSheet(css).replace(/\s+/g, ' ').trim()).toBe(want));
  }
});

describe('styleBlocks', () => {
  it('collects the text of every <style>, in the head and in the body', () => {
    expect(styleBlocks('<html><head><style>a{color:red}</style></head><body><p>x</p><style>b{color:blue}</style></body></html>')).toBe('a{color:red}\nb{color:blue}');
  });
});
