/**
 * Hands one message to the outgoing MTA (UPSTREAM_SMTP, or the dev MTA) over a fresh SMTP connection.
 * nodemailer's SMTPConnection does the client side of the protocol (dot-stuffing, STARTTLS when the
 * upstream offers it, reply parsing); this file decides what each outcome means. The user is told
 * "sent" only when the upstream has taken responsibility for the message (RFC 5321 §6.1); anything else
 * is a 4xx (try again) or 5xx (give up and tell the user), never a silent loss.
 */
import os from 'node:os';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { refusals, type SubmitFailure } from './result.js';

export interface UpstreamSmtp {
  host: string;
  port: number;
}

export interface RelayEnvelope {
  from: string;
  to: string[];
  /** SIZE= to announce; defaults to the message's length. */
  size?: number;
}

/** A recipient the upstream refused while accepting the message for the others. */
export interface RefusedRecipient {
  address: string;
  responseCode?: number;
  /** The upstream's reply line, quoted in the delivery status notification. */
  response?: string;
}

export type RelayOutcome = { ok: true; accepted: string[]; rejected: RefusedRecipient[] } | { ok: false; failure: SubmitFailure };

export interface RelayOptions {
  /** Name sent with EHLO; defaults to this host's name. */
  name?: string;
  connectTimeoutMs?: number;
  /** Longest silence from the upstream while relaying before we give up (and answer 451). */
  socketTimeoutMs?: number;
  /**
   * Longest the whole relay may take (a slow drip of replies never trips `socketTimeoutMs`); past it the
   * connection is closed before the end of DATA is acknowledged, a temporary failure. Default: no bound.
   */
  deadlineMs?: number;
}

type NodemailerError = Error & { code?: string; responseCode?: number; response?: string; recipient?: string };

/** Relays `message`; never throws. */
export function relayMessage(upstream: UpstreamSmtp, envelope: RelayEnvelope, message: Buffer, options: RelayOptions = {}): Promise<RelayOutcome> {
  return new Promise<RelayOutcome>((resolve) => {
    let settled = false;
    const conn = new SMTPConnection({
      host: upstream.host,
      port: upstream.port,
      name: options.name ?? os.hostname(),
      connectionTimeout: options.connectTimeoutMs ?? 10_000,
      greetingTimeout: options.connectTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 120_000,
      logger: false,
    });
    const deadline = options.deadlineMs ? setTimeout(() => finish({ ok: false, failure: refusals.upstreamTimeout() }), options.deadlineMs) : null;
    const finish = (outcome: RelayOutcome) => {
      if (settled) return;
      settled = true;
      if (deadline) clearTimeout(deadline);
      // close(), not quit(), after a failure: a half-sent message must die with the socket.
      if (outcome.ok) conn.quit();
      else conn.close();
      resolve(outcome);
    };
    conn.on('error', (e: Error) => finish({ ok: false, failure: classifyUpstreamError(e) }));
    conn.connect(() => {
      conn.send({ from: envelope.from, to: envelope.to, size: envelope.size ?? message.length }, message, (err, info) => {
        if (err) return finish({ ok: false, failure: classifyUpstreamError(err) });
        const rejected = (info.rejectedErrors ?? []).map((e: NodemailerError) => ({
          address: String(e.recipient ?? ''),
          responseCode: e.responseCode,
          response: typeof e.response === 'string' ? e.response : undefined,
        }));
        finish({ ok: true, accepted: (info.accepted ?? []).map(String), rejected });
      });
    });
  });
}

/** Connection trouble and 4xx are temporary (the client keeps the message and retries); 5xx is final. */
export function classifyUpstreamError(err: unknown): SubmitFailure {
  const e = err as NodemailerError;
  if (typeof e?.responseCode === 'number') {
    if (e.responseCode >= 500) return refusals.upstreamRefused(e.responseCode);
    if (e.responseCode >= 400) return refusals.upstreamTemporary(e.responseCode);
  }
  return refusals.upstreamDown();
}
