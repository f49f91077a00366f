/**
 * Washing an HTML part (after Roundcube's rcube_washtml): an allow-list of tags and attributes through
 * sanitize-html, nothing executable (no scripts, handlers, forms, frames, <base>, <meta>, external CSS), no
 * javascript:/data: URLs from the message; <style> blocks are kept aside and washed by style-clean.ts. Remote images are dropped until the user asks for them
 * for this message; links go through our leave page, which drops the Referer. The result is still shown in
 * a sandboxed frame with its own CSP (web/routes/mail/message-parts.ts), so a sanitizer miss runs nothing.
 */
import sanitizeHtml from 'sanitize-html';
import { cleanStyleSheet, styleBlocks } from './style-clean.js';

export interface CleanOptions {
  showImages: boolean;
  /** The data: URL of an inline image of this message by Content-ID, or null. */
  inlineImage: (cid: string) => string | null;
  /** Our leave-page URL for an outside link. */
  leaveUrl: (href: string) => string;
}

export interface CleanHtml {
  html: string;
  /** The message's <style> blocks, washed and scoped to #postern-message (web/mail/style-clean.ts). */
  css: string;
  /** Remote images removed because the user has not allowed them for this message. */
  blockedImages: number;
}

const TAGS = [
  ...sanitizeHtml.defaults.allowedTags.filter((t) => t !== 'style'),
  'img', 'font', 'center', 'u', 's', 'strike', 'big', 'small', 'sub', 'sup', 'hr',
];

// class: what the message's own (washed) <style> rules select on.
const COMMON_ATTRIBUTES = ['class', 'style', 'align', 'valign', 'width', 'height', 'bgcolor', 'color', 'dir', 'title', 'lang', 'border', 'cellpadding', 'cellspacing', 'colspan', 'rowspan', 'face', 'size'];

/** CSS that fetches or runs something: url() (remote images, fonts), expression(), @import, behaviours. */
const ACTIVE_CSS = /url\s*\(|expression\s*\(|@import|behavior\s*:|-moz-binding|javascript:/i;

function isRemote(src: string): boolean {
  return /^(https?:)?\/\//i.test(src.trim());
}

export function cleanHtml(dirty: string, options: CleanOptions): CleanHtml {
  let blockedImages = 0;
  const html = sanitizeHtml(dirty, {
    allowedTags: TAGS,
    allowedAttributes: { '*': COMMON_ATTRIBUTES, a: ['href', 'target', 'rel'], img: ['src', 'alt'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'background'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    // Their text is not content either (a <title> or <style> would show as words).
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head', 'template', 'svg', 'math', 'object', 'iframe', 'xmp', 'noembed', 'noframes'],
    transformTags: {
      '*': (tagName, attribs) => {
        const out: Record<string, string> = { ...attribs };
        if (out.style !== undefined && ACTIVE_CSS.test(out.style)) delete out.style;
        if (tagName === 'a' && out.href) {
          const href = out.href.trim();
          if (/^https?:\/\//i.test(href)) {
            out.href = options.leaveUrl(href);
            out.target = '_blank';
            out.rel = 'noopener noreferrer';
          } else if (!/^mailto:/i.test(href)) delete out.href;
        }
        if (tagName === 'img') {
          const src = (out.src ?? '').trim();
          delete out.src;
          if (/^cid:/i.test(src)) {
            const inline = options.inlineImage(decodeURIComponent(src.slice(4)).replace(/^<|>$/g, ''));
            if (inline) out.src = inline;
          } else if (isRemote(src)) {
            if (options.showImages) out.src = src.startsWith('//') ? `https:${src}` : src;
            else blockedImages++;
          }
          // A message's own data: URLs are dropped (above): only our inline images are data:.
        }
        return { tagName, attribs: out };
      },
    },
  });
  return { html, blockedImages, css: cleanStyleSheet(styleBlocks(dirty)) };
}
