/**
 * The SMS provider boundary. A sender delivers one text and reports what the provider said; it knows
 * nothing of credits or users. Failures are classified so the caller can refund and explain:
 * `invalid-number` (the person must fix their number) versus `unavailable` (try again later).
 */
export interface SmsMessage {
  /** E.164 destination. */
  to: string;
  body: string;
}

export interface SmsSendResult {
  /** The provider's message id (Twilio "SM…"), null when the provider has none. */
  providerSid: string | null;
  /** Provider status right after sending, e.g. "queued" or "sent". */
  status: string;
}

export interface SmsSender {
  readonly name: 'console' | 'twilio';
  send(message: SmsMessage): Promise<SmsSendResult>;
}

export type SmsFailureKind = 'invalid-number' | 'unavailable';

/** A provider refusal or outage; `providerCode` is the provider's own error code when it gave one. */
export class SmsSendError extends Error {
  readonly kind: SmsFailureKind;
  readonly providerCode: string | null;

  constructor(kind: SmsFailureKind, message: string, options: { providerCode?: string | number | null; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SmsSendError';
    this.kind = kind;
    this.providerCode = options.providerCode == null ? null : String(options.providerCode);
  }
}
