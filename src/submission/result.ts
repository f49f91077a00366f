/**
 * What a submission attempt ends in, for every front: the SMTP listener writes `smtpStatus text`, web
 * compose shows `text`. Each refusal has a stable `code` for the logs, the basic SMTP status, the
 * enhanced status code (RFC 3463) at the start of `text`, and one sentence a person can act on.
 */
export type SubmitResult =
  /** `refused`: the rejected recipients with the upstream's reply code, for a reply text or a log. */
  | { ok: true; accepted: string[]; rejected: string[]; refused?: Array<{ address: string; responseCode?: number }> }
  | { ok: false; code: string; smtpStatus: number; text: string };

export type SubmitFailure = Extract<SubmitResult, { ok: false }>;

const fail = (code: string, smtpStatus: number, text: string): SubmitFailure => ({ ok: false, code, smtpStatus, text });

/** Where a person adds an address of their own, named in every "not yours" refusal. */
const WHERE_TO_ADD = 'add and confirm it under Options → Personalities first';

export const refusals = {
  nullSender: () => fail('SEND_NULL_SENDER', 553, '5.7.1 A message submitted by a user needs a sender address'),
  senderNotOwned: (address: string) =>
    fail('SEND_SENDER_NOT_OWNED', 553, `5.7.1 Sender address <${address}> is not one of your addresses; ${WHERE_TO_ADD}`),
  headerNotOwned: (header: 'From' | 'Sender', address: string) =>
    fail('SEND_HEADER_NOT_OWNED', 550, `5.7.1 The ${header}: header names <${address}>, which is not one of your addresses; ${WHERE_TO_ADD}`),
  headerWithoutAddress: (header: 'From' | 'Sender') =>
    fail('SEND_HEADER_NO_ADDRESS', 550, `5.7.1 The ${header}: header holds no address Postern can check; write it as Name <you@example.com>`),
  headerAmbiguous: (header: 'From' | 'Sender') =>
    fail('SEND_HEADER_AMBIGUOUS', 550, `5.7.1 The ${header}: header can be read as more than one address; write it as Name <you@example.com>`),
  headerRepeated: (header: 'From' | 'Sender') =>
    fail('SEND_HEADER_REPEATED', 550, `5.7.1 The message has more than one ${header}: header; a message may have only one (RFC 5322 §3.6)`),
  senderNotSingle: () => fail('SEND_SENDER_NOT_SINGLE', 550, '5.7.1 The Sender: header must name exactly one address (RFC 5322 §3.6.2)'),
  tooManyRecipients: (max: number) => fail('SEND_TOO_MANY_RECIPIENTS', 452, `4.5.3 Too many recipients; at most ${max} per message from this login`),
  noRecipients: () => fail('SEND_NO_RECIPIENTS', 554, '5.5.1 The message has no recipients'),
  hourlyLimit: (max: number, scope: 'account' | 'login') =>
    fail(
      'SEND_RATE_LIMITED',
      451,
      `4.7.0 Sending limit reached: at most ${max} messages an hour from this ${scope === 'account' ? 'account' : 'login'}; the message was not sent, try again later`,
    ),
  messageTooBig: (max: number) => fail('SEND_TOO_BIG', 552, `5.3.4 Message exceeds the maximum size of ${max} bytes`),
  upstreamDown: () => fail('SEND_UPSTREAM_DOWN', 451, '4.4.1 The outgoing mail server is not reachable; try again later'),
  upstreamTemporary: (code: number) =>
    fail('SEND_UPSTREAM_DEFERRED', 451, `4.4.2 The outgoing mail server deferred the message (it answered ${code}); try again later`),
  upstreamTimeout: () => fail('SEND_UPSTREAM_TIMEOUT', 451, '4.4.2 The outgoing mail server did not finish in time; try again later'),
  upstreamRefused: (code: number) => fail('SEND_UPSTREAM_REFUSED', 554, `5.0.0 The outgoing mail server refused the message (it answered ${code})`),
  noUpstream: () => fail('SEND_NO_UPSTREAM', 451, '4.3.5 No outgoing mail server is configured; try again later'),
  internal: () => fail('SEND_INTERNAL', 451, '4.3.0 Local error while sending; try again later'),
} as const;
