/**
 * The helpers the rest of Postern calls to count what happened. Each is cheap (an in-memory increment)
 * and never throws: metrics must not change the outcome of a login or an SMS.
 */
import type { AuthResult } from '../auth/types.js';
import type { Service } from '../db/schema.js';
import { loginsTotal, restrictedRefusalsTotal, smsTotal, throttledLoginsTotal, upstreamLatency, webRequestLatency } from './registry.js';

export { meterImapClient, setLiveSessionsSource, setLowCreditSource, type LiveSessionCount } from './registry.js';

/** One decided login: `result` is the AuthResult, or 'error' when deciding it failed (e.g. database down). */
export function recordLogin(protocol: Service, result: AuthResult | 'error'): void {
  if (result === 'error') return void loginsTotal.inc({ protocol, method: 'unknown', result: 'error' });
  if (result.ok) return void loginsTotal.inc({ protocol, method: result.method, result: 'success' });
  loginsTotal.inc({ protocol, method: 'unknown', result: result.reason });
  if (result.reason === 'throttled') throttledLoginsTotal.inc({ protocol });
}

/** A command or request refused because the session is restricted (`reason`: a short fixed word). */
export function recordRestrictedRefusal(front: 'imap' | 'smtp' | 'web', reason: string): void {
  restrictedRefusalsTotal.inc({ front, reason });
}

export function recordSms(outcome: 'sent' | 'failed' | 'refunded'): void {
  smsTotal.inc({ outcome });
}

/** Starts a timer for an upstream connect + login; call the returned function with the result. */
export function timeUpstreamLogin(component: string): (result: 'ok' | 'failed') => void {
  const end = upstreamLatency.startTimer({ component });
  return (result) => void end({ result });
}

export function observeWebRequest(area: string, method: string, status: number, seconds: number): void {
  webRequestLatency.observe({ area, method, status: `${Math.floor(status / 100)}xx` }, seconds);
}
