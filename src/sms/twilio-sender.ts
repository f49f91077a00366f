/**
 * The Twilio provider, through the official `twilio` package. When TWILIO_API_BASE is set (tests, a
 * regional proxy) a RequestClient subclass rewrites the https://api.twilio.com origin, so every request still
 * takes the package's real path: its form encoding, Basic auth and RestException mapping.
 */
import twilio from 'twilio';
import type { Config } from '../config.js';
import { SmsSendError, type SmsMessage, type SmsSender, type SmsSendResult } from './sender.js';

const TWILIO_ORIGIN = 'https://api.twilio.com';

/**
 * Twilio error codes that mean "this destination cannot receive SMS": the person must fix their number.
 * https://www.twilio.com/docs/api/errors — 21211 invalid To, 21214 not reachable, 21217 not a valid number,
 * 21407 not SMS-capable in this country, 21408 region not enabled, 21610 recipient unsubscribed (STOP),
 * 21612 unroutable, 21614 not a mobile number.
 */
const INVALID_NUMBER_CODES = new Set([21211, 21214, 21217, 21407, 21408, 21610, 21612, 21614]);

type RequestOptions = Parameters<twilio.RequestClient['request']>[0];

/** A RequestClient that sends api.twilio.com requests to another origin (keeping path and query). */
export class RebasedRequestClient extends twilio.RequestClient {
  readonly #base: string;

  constructor(base: string, opts: ConstructorParameters<typeof twilio.RequestClient>[0] = {}) {
    super(opts);
    this.#base = base.replace(/\/+$/, '');
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    const uri = String(opts.uri);
    return super.request({ ...opts, uri: uri.startsWith(TWILIO_ORIGIN) ? this.#base + uri.slice(TWILIO_ORIGIN.length) : uri });
  }
}

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  /** Replaces https://api.twilio.com, e.g. http://127.0.0.1:4567 for the fake API. */
  apiBase?: string;
  /** Absolute URL Twilio posts delivery reports to. */
  statusCallback: string;
  /** Per-request timeout; a login waits for this at most. */
  timeoutMs?: number;
}

export function createTwilioSender(options: TwilioSenderOptions): SmsSender {
  const httpClient = options.apiBase
    ? new RebasedRequestClient(options.apiBase, { timeout: options.timeoutMs ?? 10_000 })
    : new twilio.RequestClient({ timeout: options.timeoutMs ?? 10_000 });
  const client = twilio(options.accountSid, options.authToken, { httpClient });
  return {
    name: 'twilio',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      try {
        const sent = await client.messages.create({
          to: message.to,
          body: message.body,
          statusCallback: options.statusCallback,
          ...(options.messagingServiceSid ? { messagingServiceSid: options.messagingServiceSid } : { from: options.from! }),
        });
        return { providerSid: sent.sid, status: sent.status };
      } catch (e) {
        throw classifyTwilioError(e);
      }
    },
  };
}

/** Maps a twilio-node failure (RestException or a network error) to an SmsSendError. */
export function classifyTwilioError(e: unknown): SmsSendError {
  const rest = e as { status?: unknown; code?: unknown; message?: unknown };
  if (typeof rest.status === 'number') {
    const code = typeof rest.code === 'number' ? rest.code : null;
    if (code !== null && INVALID_NUMBER_CODES.has(code)) return new SmsSendError('invalid-number', `Twilio refused the number (${code})`, { providerCode: code, cause: e });
    return new SmsSendError('unavailable', `Twilio answered ${rest.status}${code ? ` (${code})` : ''}`, { providerCode: code, cause: e });
  }
  const network = (e as { code?: unknown }).code;
  return new SmsSendError('unavailable', `Twilio unreachable${typeof network === 'string' ? ` (${network})` : ''}`, { cause: e });
}

/** Builds the sender from the configuration (SMS_PROVIDER=twilio). */
export function createTwilioSenderFromConfig(config: Config): SmsSender {
  return createTwilioSender({
    accountSid: config.TWILIO_ACCOUNT_SID!,
    authToken: config.TWILIO_AUTH_TOKEN!,
    from: config.TWILIO_FROM,
    messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
    apiBase: config.TWILIO_API_BASE,
    statusCallback: statusCallbackUrl(config),
  });
}

/** The URL Twilio posts status reports to, and against which their signature is checked. */
export function statusCallbackUrl(config: Pick<Config, 'PUBLIC_URL'>): string {
  return `${config.PUBLIC_URL}/webhooks/twilio/status`;
}
