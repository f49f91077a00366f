/**
 * The process's Prometheus metrics (prom-client), in one registry. Code elsewhere never touches
 * prom-client: it calls the typed helpers in record.ts, so names, labels and units are decided here once.
 * Labels are small closed sets (protocol, method, result, reason, route pattern): never a username, an
 * address or a raw path, which would be both a leak and a cardinality explosion.
 */
import type { Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();

export const loginsTotal = new Counter({
  name: 'postern_logins_total',
  help: 'Login attempts decided by authenticate(), by protocol (web, imap, smtp), method and result.',
  labelNames: ['protocol', 'method', 'result'] as const,
  registers: [metricsRegistry],
});

export const throttledLoginsTotal = new Counter({
  name: 'postern_logins_throttled_total',
  help: 'Login attempts refused by throttling before any password was checked.',
  labelNames: ['protocol'] as const,
  registers: [metricsRegistry],
});

export const restrictedRefusalsTotal = new Counter({
  name: 'postern_restricted_refusals_total',
  help: 'Commands or requests refused because the session is restricted, by front and reason.',
  labelNames: ['front', 'reason'] as const,
  registers: [metricsRegistry],
});

export const smsTotal = new Counter({
  name: 'postern_sms_total',
  help: 'Login-code SMS by outcome: sent (accepted by the provider), failed (refused or unreachable), refunded (credit given back).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const upstreamLatency = new Histogram({
  name: 'postern_upstream_duration_seconds',
  help: 'Time to connect to and log in to the upstream store, by component (imap gateway, webmail) and result.',
  labelNames: ['component', 'result'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const webRequestLatency = new Histogram({
  name: 'postern_web_request_duration_seconds',
  help: 'Web request latency by area (webmail, options, login, …), method and status class.',
  labelNames: ['area', 'method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export interface LiveSessionCount {
  protocol: string;
  /** The login kind (main, password, app, otp, sms) or another small fixed word such as "restricted". */
  kind: string;
  count: number;
}

let liveSessionsSource: (() => Iterable<LiveSessionCount>) | null = null;

/** Where the live-sessions gauge reads its numbers at scrape time; the session registry passes its counter. */
export function setLiveSessionsSource(fn: (() => Iterable<LiveSessionCount>) | null): void {
  liveSessionsSource = fn;
}

new Gauge({
  name: 'postern_live_sessions',
  help: 'Sessions open right now on this instance, by protocol and login kind.',
  labelNames: ['protocol', 'kind'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const { protocol, kind, count } of liveSessionsSource?.() ?? []) this.set({ protocol, kind }, count);
  },
});

/**
 * Bytes on the wire between IMAP clients and the gateway (TLS and any PROXY header included). Read from
 * each socket's own byte counts rather than counted per chunk, so the relay's hot path does no metrics
 * work: a closed connection adds its remainder once, an open one is brought up to date at each scrape.
 */
const meteredSockets = new Map<Socket, { received: number; sent: number }>();

function addSocketBytes(socket: Socket, seen: { received: number; sent: number }): void {
  const received = socket.bytesRead;
  const sent = socket.bytesWritten;
  if (received > seen.received) imapClientBytes.inc({ direction: 'received' }, received - seen.received);
  if (sent > seen.sent) imapClientBytes.inc({ direction: 'sent' }, sent - seen.sent);
  seen.received = received;
  seen.sent = sent;
}

const imapClientBytes: Counter<'direction'> = new Counter({
  name: 'postern_imap_client_bytes_total',
  help: 'Bytes between IMAP clients and the gateway, by direction (received from clients, sent to them).',
  labelNames: ['direction'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const [socket, seen] of meteredSockets) addSocketBytes(socket, seen);
  },
});

/** Meters one client connection's bytes until it closes. */
export function meterImapClient(socket: Socket): void {
  const seen = { received: 0, sent: 0 };
  meteredSockets.set(socket, seen);
  socket.once('close', () => {
    addSocketBytes(socket, seen);
    meteredSockets.delete(socket);
  });
}

let lowCreditSource: (() => Promise<number>) | null = null;

/** Where the low-credit gauge reads its number at scrape time (`serve` passes a database count). */
export function setLowCreditSource(fn: (() => Promise<number>) | null): void {
  lowCreditSource = fn;
}

new Gauge({
  name: 'postern_groups_low_on_sms_credits',
  help: 'Businesses/families that allow SMS logins and whose SMS credit balance is below SMS_LOW_BALANCE_WARNING (the database\'s count: the same on every instance).',
  registers: [metricsRegistry],
  async collect() {
    if (!lowCreditSource) return;
    // A scrape while the database is down leaves the last value rather than failing the whole scrape.
    const count = await lowCreditSource().catch(() => null);
    if (count !== null) this.set(count);
  },
});

let processMetricsOn = false;

/**
 * Node's own metrics (event-loop lag as nodejs_eventloop_lag_*, heap, CPU, open handles). Started by
 * `serve` only: they sample continuously, which a CLI run or a test does not need.
 */
export function enableProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'postern_' });
}
