/**
 * Hands one submitted message to the upstream MTA (UPSTREAM_SMTP) over a fresh SMTP connection, streaming
 * the body as it arrives. nodemailer's SMTPConnection does the client side of the protocol (dot-stuffing,
 * STARTTLS when the upstream offers it, reply parsing); this file decides what each outcome means for
 * the user's mail client. The rule is that the client is told 250 only when the upstream has taken
 * responsibility for the message (RFC 5321 §6.1); anything else is a 4xx (try again) or 5xx (give up and
 * tell the user), never a silent loss.
 */
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { replies, SmtpReply } from './replies.js';

export interface UpstreamSmtp {
  host: string;
  port: number;
}

export interface RelayEnvelope {
  from: string;
  to: string[];
  /** The size the client declared with MAIL FROM SIZE=, passed on so the upstream can refuse early. */
  size?: number;
}

export interface RelayResult {
  accepted: string[];
  /** Recipients the upstream refused while accepting the message for the others. */
  rejected: Array<{ address: string; responseCode?: number }>;
  /** The upstream's final reply code, for the log. */
  responseCode: number;
}

export interface RelayOptions {
  /** Name sent with EHLO. */
  name: string;
  connectTimeoutMs?: number;
  /** Longest silence from the upstream while relaying before we give up and answer 451. */
  socketTimeoutMs?: number;
}

type NodemailerError = Error & { code?: string; responseCode?: number; rejected?: unknown };

/**
 * Relays `message` to the upstream. Resolves once the upstream answered 250 to the end of DATA; rejects
 * with an SmtpReply otherwise. If `message` is destroyed with an error (the client went over the size
 * limit, or went away), the upstream connection is dropped before the final dot, so the upstream discards
 * the partial message, and that error is rethrown.
 */
export function relayMessage(
  upstream: UpstreamSmtp,
  envelope: RelayEnvelope,
  message: Readable,
  options: RelayOptions,
): Promise<RelayResult> {
  return new Promise<RelayResult>((resolve, reject) => {
    let settled = false;
    let sourceError: Error | undefined;
    message.once('error', (e) => (sourceError = e));
    const conn = new SMTPConnection({
      host: upstream.host,
      port: upstream.port,
      name: options.name,
      connectionTimeout: options.connectTimeoutMs ?? 10_000,
      greetingTimeout: options.connectTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 120_000,
      logger: false,
    });
    const finish = (err: unknown, result?: RelayResult) => {
      if (settled) return;
      settled = true;
      if (err) {
        // close(), not quit(): a half-sent message must die with the socket, never get its final dot.
        conn.close();
        reject(sourceError ?? classifyUpstreamError(err));
      } else {
        conn.quit();
        resolve(result!);
      }
    };
    conn.on('error', (e: Error) => finish(e));
    conn.connect(() => {
      conn.send({ from: envelope.from, to: envelope.to, size: envelope.size }, message, (err, info) => {
        if (err) return finish(err);
        const rejected = (info.rejectedErrors ?? []).map((e: NodemailerError & { recipient?: string }) => ({
          address: String(e.recipient ?? ''),
          responseCode: e.responseCode,
        }));
        finish(null, {
          accepted: (info.accepted ?? []).map(String),
          rejected,
          responseCode: Number.parseInt(String(info.response ?? '250'), 10) || 250,
        });
      });
    });
  });
}

/** Connection trouble and 4xx are temporary (the client keeps the message and retries); 5xx is final. */
export function classifyUpstreamError(err: unknown): SmtpReply {
  if (err instanceof SmtpReply) return err;
  const e = err as NodemailerError;
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return replies.upstreamRefused(e.responseCode);
    if (e.responseCode >= 400) return replies.upstreamTemporary(e.responseCode);
  }
  return replies.upstreamDown();
}
