/**
 * `submitMessage`: one message from an authenticated user, through every rule, to the outgoing MTA. The
 * SMTP listener calls it at the end of DATA and web compose when the user presses Send; neither has a
 * copy of the rules. Order: envelope sender → recipient count → size → From:/Sender: → hourly limits →
 * relay → a delivery report for recipients refused after acceptance. Nothing is lost silently: a message
 * is either relayed (ok) or the caller gets a refusal to pass on (4xx: keep it and retry; 5xx: tell the
 * user).
 */
import { audit } from '../audit.js';
import type { AppContext } from '../context.js';
import { readHeaderFields } from './originator-fields.js';
import { buildDeliveryReport, deliverReportToInbox } from './delivery-report.js';
import { checkRecipientCount, releaseSubmission, reserveSubmission } from './rate-limits.js';
import { relayMessage, type UpstreamSmtp } from './relay.js';
import { refusals, type SubmitFailure, type SubmitResult } from './result.js';
import { authorizeSender, checkOriginatorFields } from './sender-policy.js';

export interface SubmitInput {
  userId: number;
  /** The alternative login used, or null for the main password. */
  loginId: number | null;
  restricted: boolean;
  via: 'smtp' | 'web';
  clientIp: string | null;
  envelopeFrom: string;
  recipients: string[];
  /** The RFC 5322 message as the client gave it. */
  message: Buffer;
  /** Trace fields to put on top (the SMTP listener's Received:), not part of the checks. */
  trace?: Buffer;
  /** The size the client announced (SMTP SIZE=), passed on so the upstream can refuse early. */
  declaredSize?: number;
  /** Where to relay; defaults to UPSTREAM_SMTP, else the dev MTA. */
  upstream?: UpstreamSmtp;
}

/** Where mail leaves this process: UPSTREAM_SMTP, else the dev MTA when one runs. */
export function outgoingMta(ctx: AppContext): UpstreamSmtp | null {
  return ctx.config.UPSTREAM_SMTP ?? ctx.devMta ?? null;
}

export async function submitMessage(ctx: AppContext, input: SubmitInput): Promise<SubmitResult> {
  const log = ctx.log.child({ component: 'submission', via: input.via });
  const who = { userId: input.userId, loginId: input.loginId };
  const refuse = async (failure: SubmitFailure): Promise<SubmitFailure> => {
    log.warn({ ...who, code: failure.code, status: failure.smtpStatus }, 'message not sent');
    await audit(ctx.db, { event: 'mail.refused', ...who, ip: input.clientIp, service: input.via, details: { code: failure.code, loginId: input.loginId } }).catch(
      () => undefined,
    );
    return failure;
  };
  try {
    const senderRefused = await authorizeSender(ctx, input.userId, input.envelopeFrom);
    if (senderRefused) return refuse(senderRefused);
    const countRefused = checkRecipientCount(ctx, input, input.recipients.length);
    if (countRefused) return refuse(countRefused);
    if (input.message.length > ctx.config.MAX_MESSAGE_SIZE) return refuse(refusals.messageTooBig(ctx.config.MAX_MESSAGE_SIZE));
    const checked = await checkOriginatorFields(ctx, input.userId, input.envelopeFrom, input.message);
    if (!checked.ok) return refuse(checked);
    const upstream = input.upstream ?? outgoingMta(ctx);
    if (!upstream) return refuse(refusals.noUpstream());

    const place = await reserveSubmission(ctx, input, input.recipients.length);
    if (!place.ok) return refuse(place);
    const outgoing = input.trace ? Buffer.concat([input.trace, checked.message]) : checked.message;
    const relayed = await relayMessage(upstream, { from: input.envelopeFrom, to: input.recipients, size: input.declaredSize }, outgoing);
    if (!relayed.ok) {
      await releaseSubmission(ctx, place.id);
      return refuse(relayed.failure);
    }
    log.info({ ...who, code: 'MAIL_SUBMITTED', recipients: relayed.accepted.length, refused: relayed.rejected.length, bytes: outgoing.length }, 'message relayed');
    await audit(ctx.db, {
      event: 'mail.submitted',
      ...who,
      ip: input.clientIp,
      service: input.via,
      details: { loginId: input.loginId, recipients: relayed.accepted.length, refused: relayed.rejected.length },
    });
    if (relayed.rejected.length) await reportRefusals(ctx, input, relayed.rejected, checked.message);
    return {
      ok: true,
      accepted: relayed.accepted,
      rejected: relayed.rejected.map((r) => r.address),
      refused: relayed.rejected.map((r) => ({ address: r.address, responseCode: r.responseCode })),
    };
  } catch (err) {
    log.error({ ...who, code: 'SEND_INTERNAL', err: { name: (err as Error)?.name } }, 'submission crashed');
    return refusals.internal();
  }
}

/** The sender learns of late refusals by mail; failing to deliver that report does not unsend the message. */
async function reportRefusals(ctx: AppContext, input: SubmitInput, refused: Parameters<typeof buildDeliveryReport>[0]['refused'], message: Buffer) {
  try {
    const { headerBytes } = readHeaderFields(message);
    const report = await buildDeliveryReport({ to: input.envelopeFrom, refused, originalHeader: Buffer.concat([message.subarray(0, headerBytes), Buffer.from('\r\n')]) });
    await deliverReportToInbox(ctx, input.userId, report);
  } catch (err) {
    ctx.log.error({ userId: input.userId, code: 'DSN_NOT_DELIVERED', err: { name: (err as Error)?.name } }, 'delivery report could not be stored');
  }
}
