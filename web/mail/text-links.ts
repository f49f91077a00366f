/**
 * A text/plain body as HTML: every character escaped, then http(s) URLs made into links through the leave
 * page. Escaping first and linking only what the URL pattern matched means no text can become markup.
 */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/gi;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function linkifyText(text: string, leaveUrl: (href: string) => string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_PATTERN)) {
    const url = m[0];
    out += escapeHtml(text.slice(last, m.index));
    out += `<a href="${escapeHtml(leaveUrl(url))}" rel="noopener noreferrer">${escapeHtml(url)}</a>`;
    last = m.index + url.length;
  }
  return out + escapeHtml(text.slice(last));
}
