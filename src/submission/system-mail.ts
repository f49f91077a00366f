/**
 * Mail Postern writes itself (address confirmations, login notices): built with nodemailer's MailComposer
 * and handed to the same outgoing MTA as every submitted message (UPSTREAM_SMTP, else the dev MTA), from a
 * no-reply sender and marked `Auto-Submitted: auto-generated` (RFC 3834 §5) so no robot answers it.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { AppContext } from '../context.js';
import { relayMessage, type RelayOptions, type RelayOutcome } from './relay.js';
import { refusals } from './result.js';
import { outgoingMta } from './submit-message.js';

/** The envelope and From: address of system mail: no-reply at PUBLIC_URL's host. */
export function systemSender(ctx: Pick<AppContext, 'config'>): string {
  return `no-reply@${new URL(ctx.config.PUBLIC_URL).hostname}`;
}

export interface SystemMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Composes and relays one system message; never throws (a missing MTA is a failed outcome). */
export async function sendSystemMail(ctx: Pick<AppContext, 'config' | 'devMta'>, mail: SystemMail, options: RelayOptions = {}): Promise<RelayOutcome> {
  const upstream = outgoingMta(ctx as AppContext);
  if (!upstream) return { ok: false, failure: refusals.noUpstream() };
  const message = await new MailComposer({
    from: `Postern <${systemSender(ctx)}>`,
    to: mail.to,
    subject: mail.subject,
    headers: { 'Auto-Submitted': 'auto-generated' },
    text: mail.text,
    ...(mail.html ? { html: mail.html } : {}),
  })
    .compile()
    .build();
  return relayMessage(upstream, { from: systemSender(ctx), to: [mail.to] }, message, options);
}
