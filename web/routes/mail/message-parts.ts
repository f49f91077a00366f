/**
 * The parts of a message the browser fetches on its own:
 *  - /mail/message/html: the washed HTML body as the sandboxed frame's document, with its own CSP
 *    (no scripts at all; images only our inline data: ones until "Show images"; inline styles only);
 *  - /mail/message/part: an attachment, streamed from the store part by part (never whole in memory),
 *    `Content-Disposition: attachment` (RFC 6266 filename*), nosniff, no-store;
 *  - /mail/message/original: the raw message as plain text, streamed the same way;
 *  - /mail/leave: the page outside links go through, which sends no Referer.
 */
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import type { ImapFlow } from 'imapflow';
import type { WebEnv } from '../../env.js';
import { cleanHtml, type CleanHtml } from '../../mail/html-clean.js';
import { MESSAGE_ROOT_ID } from '../../mail/style-clean.js';
import { leaveUrl, verifiedDestination } from '../../mail/leave-link.js';
import { inlineImages, MessageGoneError, openMessage } from '../../mail/message-read.js';
import { analyseStructure } from '../../mail/mime-parts.js';
import { lockFolder } from '../../mail/open-folder.js';
import type { StorePool } from '../../mail/store-pool.js';
import { escapeHtml } from '../../mail/text-links.js';
import { folderParam, positiveInt, withStore } from './mail-context.js';

export function cleanMessageHtml(html: string, images: Map<string, string>, showImages: boolean, leave: (href: string) => string): CleanHtml {
  return cleanHtml(html, { showImages, inlineImage: (cid) => images.get(cid) ?? null, leaveUrl: leave });
}

function frameCsp(showImages: boolean): string {
  return `default-src 'none'; img-src data:${showImages ? ' https: http:' : ''}; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'`;
}

/** RFC 6266 §4.3: an ASCII fallback plus filename* in UTF-8 (RFC 8187). */
export function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'download';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Streams `part` (or the whole message) with the folder held selected until the stream ends: imapflow
 * fetches a large part in several ranges, and another request's SELECT must not come between them.
 */
async function streamFromStore(client: ImapFlow, folder: string, uid: number, pick: (client: ImapFlow) => Promise<{ part?: string; filename: string; type: string } | null>) {
  const lock = await lockFolder(client, folder);
  try {
    const chosen = await pick(client);
    if (!chosen) throw new MessageGoneError(folder);
    const dl = await client.download(String(uid), chosen.part, { uid: true, decodeText: false });
    if (!dl.content) throw new MessageGoneError(folder);
    const content = dl.content;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      lock.release();
    };
    content.once('end', release).once('close', release).once('error', release);
    return { ...chosen, content };
  } catch (e) {
    lock.release();
    throw e;
  }
}

function streamResponse(c: Context<WebEnv>, content: Readable, headers: Record<string, string>) {
  const body = Readable.toWeb(content) as ReadableStream<Uint8Array>;
  return new Response(body, {
    status: 200,
    headers: { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers },
  });
}

export function createMessagePartRoutes(pool: StorePool) {
  const app = new Hono<WebEnv>();

  app.get('/message/html', async (c) => {
    const ctx = c.get('ctx');
    const folder = folderParam(c.req.query('folder'));
    const uid = positiveInt(c.req.query('uid'), 0);
    const showImages = c.req.query('images') === '1';
    const { m, images } = await withStore(c, pool, async (client) => {
      const m = await openMessage(client, folder, uid, { markSeen: false });
      return { m, images: await inlineImages(client, folder, uid, m.parts.attachments) };
    });
    const { html, css } = cleanMessageHtml(m.html ?? '', images, showImages, (href) => leaveUrl(ctx.secretKey, href));
    c.header('Content-Security-Policy', frameCsp(showImages));
    c.header('X-Frame-Options', 'SAMEORIGIN');
    c.header('Referrer-Policy', 'no-referrer');
    return c.html(`<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">${css ? `<style>${css}</style>` : ''}</head><body><div id="${MESSAGE_ROOT_ID}">${html}</div></body></html>`);
  });

  app.get('/message/part', async (c) => {
    const folder = folderParam(c.req.query('folder'));
    const uid = positiveInt(c.req.query('uid'), 0);
    const part = (c.req.query('part') ?? '').slice(0, 100);
    const file = await withStore(c, pool, (client) =>
      streamFromStore(client, folder, uid, async (cl) => {
        const msg = await cl.fetchOne(String(uid), { uid: true, bodyStructure: true }, { uid: true });
        if (!msg) return null;
        const a = analyseStructure(msg.bodyStructure).attachments.find((x) => x.part === part);
        return a ? { part: a.part, filename: a.filename, type: a.type } : null;
      }),
    );
    const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(file.type) ? file.type : 'application/octet-stream';
    return streamResponse(c, file.content, { 'Content-Type': type, 'Content-Disposition': contentDisposition('attachment', file.filename) });
  });

  app.get('/message/original', async (c) => {
    const folder = folderParam(c.req.query('folder'));
    const uid = positiveInt(c.req.query('uid'), 0);
    const file = await withStore(c, pool, (client) =>
      streamFromStore(client, folder, uid, async (cl) => ((await cl.fetchOne(String(uid), { uid: true }, { uid: true })) ? { filename: `message-${uid}.eml`, type: 'text/plain' } : null)),
    );
    return streamResponse(c, file.content, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Disposition': contentDisposition('inline', file.filename) });
  });

  app.get('/leave', (c) => {
    const to = verifiedDestination(c.get('ctx').secretKey, c.req.query('to') ?? '', c.req.query('sig') ?? '');
    c.header('Referrer-Policy', 'no-referrer');
    if (!to) return c.html('<!DOCTYPE html><title>Link</title><p>This link is not valid.</p>', 400);
    // A page, not a redirect: the person sees where the link really goes before leaving.
    return c.html(
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Leaving Postern</title></head><body><p>This link leads out of Postern to:</p><p><a href="${escapeHtml(to)}" rel="noopener noreferrer">${escapeHtml(to)}</a></p></body></html>`,
    );
  });

  return app;
}
