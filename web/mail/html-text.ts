/**
 * A text rendering of an HTML part, for quoting it in a reply or a forward (the compose body is plain
 * text). The HTML is washed first (web/mail/html-clean.ts), so nothing the sanitizer drops (scripts, styles,
 * hidden form fields) turns into quoted words; html-to-text then lays out what is left: paragraphs, lists,
 * tables, and links as "text [address]". Images become nothing (their alt text would only be noise).
 */
import { convert } from 'html-to-text';
import { cleanHtml } from './html-clean.js';

/** Beyond this a quote is cut (the shown part is already bounded; this keeps the textarea usable). */
const MAX_QUOTE_CHARS = 200_000;

export function htmlToQuoteText(html: string): string {
  const washed = cleanHtml(html, { showImages: false, inlineImage: () => null, leaveUrl: (href) => href }).html;
  const text = convert(washed, {
    wordwrap: 76,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  });
  return text.length > MAX_QUOTE_CHARS ? `${text.slice(0, MAX_QUOTE_CHARS)}\n[…]` : text;
}
