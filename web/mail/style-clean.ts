/**
 * The `<style>` blocks of an HTML mail, kept as far as they are safe (newsletters lay themselves out with
 * them; Roundcube's washtml keeps them too). postcss parses the CSS (a real parser, not a regex over the
 * text); what survives is an allow-list:
 *  - rules, and @media / @supports around rules; every other at-rule goes (@import and @font-face fetch,
 *    @namespace, @page, @keyframes and the rest are not worth the surface);
 *  - declarations whose value fetches or runs nothing: no url(), image-set(), expression(), no
 *    behavior / -moz-binding, and no backslash at all (CSS escapes could spell `url(` past any check);
 *  - selectors scoped under the message's own wrapper, with html/body/:root meaning that wrapper.
 * The result is written into the sandboxed frame's document, whose CSP allows no remote style, font or
 * (until "Show images") image: a miss here still loads nothing.
 */
import { Parser } from 'htmlparser2';
import postcss, { type AtRule, type ChildNode, type Container, type Rule } from 'postcss';

/** The wrapper every kept selector is scoped under (the frame's <body> holds one such element). */
export const MESSAGE_ROOT_ID = 'postern-message';
/** More CSS than this from one message is dropped (a newsletter's is a few KB). */
const MAX_CSS_CHARS = 100_000;
const KEPT_AT_RULES = new Set(['media', 'supports']);
const ACTIVE_VALUE = /url\s*\(|image-set\s*\(|image\s*\(|expression\s*\(|javascript:|@import|\\/i;
const ACTIVE_PROPERTY = /^(behavior|-moz-binding|-ms-behavior)$/i;

function scopeSelector(selector: string): string {
  const root = `#${MESSAGE_ROOT_ID}`;
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      // html, body, :root (alone or leading a compound) stand for the message's wrapper.
      const rooted = s.replace(/^(?:html|:root)(?=$|[\s>+~.#:[])\s*/i, '').replace(/^body(?=$|[\s>+~.#:[])/i, root);
      if (rooted.startsWith(root)) return rooted;
      return rooted ? `${root} ${rooted}` : root;
    })
    .join(', ');
}

function cleanContainer(container: Container): void {
  container.each((node: ChildNode) => {
    if (node.type === 'comment') return void node.remove();
    if (node.type === 'atrule') {
      const at = node as AtRule;
      if (!KEPT_AT_RULES.has(at.name.toLowerCase()) || ACTIVE_VALUE.test(at.params)) return void at.remove();
      cleanContainer(at);
      return;
    }
    if (node.type === 'rule') {
      const rule = node as Rule;
      if (/[\\<]/.test(rule.selector)) return void rule.remove();
      rule.selector = scopeSelector(rule.selector);
      rule.each((d) => {
        if (d.type !== 'decl' || ACTIVE_PROPERTY.test(d.prop) || ACTIVE_VALUE.test(d.value) || ACTIVE_VALUE.test(d.prop)) d.remove();
      });
      if (!rule.nodes.length) rule.remove();
      return;
    }
    // A declaration outside any rule applies to nothing.
    node.remove();
  });
}

/** The safe part of a message's CSS, scoped to its wrapper; '' when nothing is left or it does not parse. */
export function cleanStyleSheet(css: string): string {
  if (!css.trim() || css.length > MAX_CSS_CHARS) return '';
  let root;
  try {
    root = postcss.parse(css);
  } catch {
    return '';
  }
  cleanContainer(root);
  // Nothing in the output may close the <style> element it is written into.
  return root.toString().replace(/</g, '');
}

/** The text of every <style> element of an HTML part (head or body), in order. */
export function styleBlocks(html: string): string {
  const out: string[] = [];
  let depth = 0;
  const parser = new Parser(
    {
      onopentagname: (name) => void (name === 'style' && depth++),
      onclosetag: (name) => void (name === 'style' && depth > 0 && depth--),
      ontext: (text) => void (depth > 0 && out.push(text)),
    },
    { decodeEntities: false },
  );
  parser.end(html);
  return out.join('\n');
}
