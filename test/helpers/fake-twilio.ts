/**
 * A local fake of the slice of Twilio's REST API that Postern uses, so tests run the real `twilio`
 * package end to end (its form encoding, Basic auth and error mapping): POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with Twilio's response and error shapes. Switches
 * simulate an outage (503) and numbers Twilio rejects (21211). It also plays Twilio's side of status
 * callbacks, signed with X-Twilio-Signature as Twilio signs them.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  status: string;
}

export interface FakeTwilio {
  /** Origin to put in TWILIO_API_BASE, e.g. http://127.0.0.1:40123. */
  url: string;
  accountSid: string;
  authToken: string;
  /** Every accepted message, oldest first. */
  messages: FakeTwilioMessage[];
  /** Number of requests that reached Messages.json (accepted or not). */
  requests: number;
  /** While true, every request gets 503 like an outage. */
  outage: boolean;
  /** Destinations answered with error 21211. */
  invalidNumbers: Set<string>;
  /** Delay before answering, to widen race windows. */
  delayMs: number;
  /** The digits of the newest code sent to `to`, or null. */
  lastCodeFor(to: string): string | null;
  /** Form body and headers of a status callback for `sid`, signed as Twilio would sign them. */
  signedStatusCallback(
    sid: string,
    status: string,
    options?: { url?: string; errorCode?: string; authToken?: string },
  ): { url: string; headers: Record<string, string>; body: string };
  /** POSTs a signed status callback to the URL the message named (or `options.url`). */
  postStatusCallback(sid: string, status: string, options?: { url?: string; errorCode?: string; authToken?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Twilio's error JSON: `{"code":21211,"message":…,"more_info":…,"status":400}`. */
function twilioError(res: http.ServerResponse, status: number, code: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

export async function startFakeTwilio(
  options: { accountSid?: string; authToken?: string } = {},
): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? crypto.randomBytes(16).toString('hex');
  const expectedAuth = Buffer.from(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => handle(req, res, Buffer.concat(chunks).toString('utf8'));
      if (fake.delayMs > 0) setTimeout(answer, fake.delayMs);
      else answer();
    });
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '');
    if (!match || req.method !== 'POST') return twilioError(res, 404, 20404, `The requested resource ${req.url} was not found`);
    fake.requests++;
    const given = Buffer.from(req.headers.authorization ?? '');
    if (match[1] !== accountSid || given.length !== expectedAuth.length || !crypto.timingSafeEqual(given, expectedAuth))
      return twilioError(res, 401, 20003, 'Authenticate');
    if (fake.outage) return twilioError(res, 503, 20503, 'Service Unavailable');
    const form = new URLSearchParams(raw);
    const to = form.get('To') ?? '';
    const body = form.get('Body') ?? '';
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!body) return twilioError(res, 400, 21602, 'Message body is required.');
    if (!from && !messagingServiceSid) return twilioError(res, 400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (fake.invalidNumbers.has(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
    const status = messagingServiceSid && !from ? 'accepted' : 'queued';
    const message: FakeTwilioMessage = { sid, to, from, messagingServiceSid, body, statusCallback: form.get('StatusCallback'), status };
    fake.messages.push(message);
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        account_sid: accountSid,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from,
        messaging_service_sid: messagingServiceSid,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid,
        status,
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to,
        uri,
      }),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeTwilio = {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages: [],
    requests: 0,
    outage: false,
    invalidNumbers: new Set(),
    delayMs: 0,
    lastCodeFor(to) {
      const message = fake.messages.filter((m) => m.to === to).at(-1);
      return message ? (/\b(\d{6,})\b/.exec(message.body)?.[1] ?? null) : null;
    },
    signedStatusCallback(sid, status, opts = {}) {
      const message = fake.messages.find((m) => m.sid === sid);
      const url = opts.url ?? message?.statusCallback;
      if (!url) throw new Error(`no status callback URL for ${sid}`);
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: message?.from ?? '',
        MessageSid: sid,
        MessageStatus: status,
        SmsSid: sid,
        SmsStatus: status,
        To: message?.to ?? '',
        ...(opts.errorCode ? { ErrorCode: opts.errorCode } : {}),
      };
      const signature = twilio.getExpectedTwilioSignature(opts.authToken ?? authToken, url, params);
      return {
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      };
    },
    async postStatusCallback(sid, status, opts = {}) {
      const signed = fake.signedStatusCallback(sid, status, opts);
      return fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** Environment for a test context whose SMS go through the real twilio package to this fake. */
export function fakeTwilioEnv(fake: FakeTwilio, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: '+15005550006',
    TWILIO_API_BASE: fake.url,
    PUBLIC_URL: 'https://postern.example.test',
    ...extra,
  };
}
