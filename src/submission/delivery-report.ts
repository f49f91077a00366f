/**
 * A delivery status notification (RFC 3464) for recipients the outgoing MTA refused after the sender's
 * client had been told the message was accepted: the client shows nothing but errors, so the news has to
 * arrive as mail. Built with nodemailer's MIME builder (multipart/report, RFC 6522) and appended to the
 * sender's INBOX through the store, as the dev MTA delivers.
 */
import os from 'node:os';
import MimeNode from 'nodemailer/lib/mime-node';
import { eq } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { users } from '../db/schema.js';
import { storeClient } from '../upstream/store-client.js';
import { storeIdentity } from '../upstream/store-identity.js';
import type { RefusedRecipient } from './relay.js';

/** Header values come from the upstream and the client: one line, printable, bounded. */
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 500);

/** The RFC 3464 report for `refused`, with the original message's header section (RFC 6522 §3). */
export async function buildDeliveryReport(input: {
  to: string;
  refused: RefusedRecipient[];
  originalHeader: Buffer;
  reportingMta?: string;
  arrivalDate?: Date;
}): Promise<Buffer> {
  const mta = oneLine(input.reportingMta ?? os.hostname());
  const names = input.refused.map((r) => oneLine(r.address));
  const root = new MimeNode('multipart/report; report-type=delivery-status', { hostname: mta });
  root.setHeader({
    From: `Mail Delivery System <postmaster@${mta}>`,
    To: `<${oneLine(input.to)}>`,
    Subject: `Undelivered mail: ${names.length} recipient(s) refused`,
    // RFC 3834 §5: an automatic message; a well-behaved system answers it with nothing.
    'Auto-Submitted': 'auto-replied',
  });
  root
    .createChild('text/plain; charset=utf-8')
    .setContent(
      [
        'Your message was sent, but the outgoing mail server refused it for these recipients, so they will not get it:',
        '',
        ...input.refused.map((r) => `  ${oneLine(r.address)}: ${oneLine(r.response ?? `refused (${r.responseCode ?? 'no reason given'})`)}`),
        '',
        'Check the addresses and send the message to them again. Every other recipient was accepted.',
        '',
      ].join('\r\n'),
    );
  const perMessage = [`Reporting-MTA: dns; ${mta}`, `Arrival-Date: ${(input.arrivalDate ?? new Date()).toUTCString()}`];
  const perRecipient = input.refused.map((r) => {
    const code = r.responseCode ?? 550;
    const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(r.response ?? '')?.[1] ?? `${Math.floor(code / 100)}.0.0`;
    return [
      `Final-Recipient: rfc822; ${oneLine(r.address)}`,
      `Action: ${code >= 500 ? 'failed' : 'delayed'}`,
      `Status: ${enhanced}`,
      `Diagnostic-Code: smtp; ${oneLine(r.response ?? String(code))}`,
    ].join('\r\n');
  });
  root.createChild('message/delivery-status').setContent([perMessage.join('\r\n'), ...perRecipient].join('\r\n\r\n') + '\r\n');
  root.createChild('text/rfc822-headers').setContent(input.originalHeader);
  return root.build();
}

/** Appends `report` to the INBOX of `userId`'s mailbox. Throws when the store cannot take it. */
export async function deliverReportToInbox(ctx: AppContext, userId: number, report: Buffer): Promise<void> {
  const [user] = await ctx.db.select({ mailbox: users.upstreamUser }).from(users).where(eq(users.id, userId));
  if (!user) throw new Error('sender not found');
  const store = storeIdentity(ctx.config, { mailbox: user.mailbox, restricted: false });
  if (!store) throw new Error('no upstream IMAP configured');
  const client = storeClient(ctx, store, 'delivery-report');
  await client.connect();
  try {
    await client.append('INBOX', report);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
