/**
 * Enrolling an authenticator app from the web (Options → Alternative Logins). The server draws a secret
 * and shows it (QR code and groups of four); the login is created only when the person types a current
 * code from the app, which proves the app holds the same secret and the same time.
 *
 * Between the two pages the pending secret travels in the form, sealed (AES-256-GCM, src/auth/totp-seal.ts)
 * with the web session id and user id as associated data and an expiry inside: it is never in clear in a
 * URL or a field, opens only for the session that drew it, and is void after ENROLMENT_SECONDS.
 */
import { PosternError } from '../errors.js';
import type { AppContext } from '../context.js';
import { generateTotpSecret, groupedSecret, matchTotpStep, otpauthUri } from '../auth/totp.js';
import { seal, unseal } from '../auth/totp-seal.js';
import { createTotpLogin, type AltLogin } from './alt-logins.js';

export const ENROLMENT_SECONDS = 10 * 60;
/** The name an authenticator app shows above the code. */
export const TOTP_ISSUER = 'Postern';

export interface TotpEnrolment {
  /** The sealed pending secret, for the confirmation form. */
  sealed: string;
  /** For the QR code. */
  uri: string;
  /** For typing by hand: "ABCD EFGH …". */
  grouped: string;
}

interface Binding {
  sessionId: string;
  userId: number;
  username: string;
}

function aad(b: Binding): string {
  return `session:${b.sessionId}|user:${b.userId}`;
}

function clockOf(ctx: Pick<AppContext, 'clock'>): Date {
  return ctx.clock ? ctx.clock() : new Date();
}

function describe(secret: Buffer, username: string, sealed: string): TotpEnrolment {
  return { sealed, uri: otpauthUri({ issuer: TOTP_ISSUER, account: username, secret }), grouped: groupedSecret(secret) };
}

/** A new pending secret for this session. */
export function startTotpEnrolment(ctx: Pick<AppContext, 'secretKey' | 'clock'>, b: Binding): TotpEnrolment {
  const secret = generateTotpSecret();
  const expiresAt = clockOf(ctx).getTime() + ENROLMENT_SECONDS * 1000;
  const plain = Buffer.from(JSON.stringify({ s: secret.toString('base64'), e: expiresAt }));
  return describe(secret, b.username, seal(ctx.secretKey, 'totp-enrolment', aad(b), plain));
}

/** The pending secret back, to draw the page again after a mistake; null when void, expired or not ours. */
export function reopenTotpEnrolment(ctx: Pick<AppContext, 'secretKey' | 'clock'>, b: Binding, sealed: string): TotpEnrolment | null {
  const secret = openSecret(ctx, b, sealed);
  return secret ? describe(secret, b.username, sealed) : null;
}

function openSecret(ctx: Pick<AppContext, 'secretKey' | 'clock'>, b: Binding, sealed: string): Buffer | null {
  const plain = sealed.length <= 400 ? unseal(ctx.secretKey, 'totp-enrolment', aad(b), sealed) : null;
  if (!plain) return null;
  try {
    const { s, e } = JSON.parse(plain.toString('utf8')) as { s: string; e: number };
    return typeof e === 'number' && e > clockOf(ctx).getTime() ? Buffer.from(s, 'base64') : null;
  } catch {
    return null;
  }
}

/**
 * Creates the TOTP login if `code` is a current code of the pending secret. TOTP_ENROLMENT_EXPIRED when
 * the pending secret is void; TOTP_CODE_WRONG when the code is not current; otherwise as createTotpLogin.
 */
export async function confirmTotpEnrolment(
  ctx: AppContext,
  input: Binding & { sealed: string; code: string; password: string; label?: string; restricted?: boolean; services?: readonly string[]; creationKey?: string },
): Promise<AltLogin> {
  const secret = openSecret(ctx, input, input.sealed);
  if (!secret) throw new PosternError('TOTP_ENROLMENT_EXPIRED');
  const step = matchTotpStep(secret, input.code, clockOf(ctx), null);
  if (step === null) throw new PosternError('TOTP_CODE_WRONG');
  return createTotpLogin(ctx, {
    userId: input.userId,
    actorUserId: input.userId,
    secret: input.password,
    totpSecret: secret,
    confirmedStep: step,
    ...(input.label !== undefined ? { label: input.label } : {}),
    ...(input.restricted !== undefined ? { restricted: input.restricted } : {}),
    ...(input.services !== undefined ? { services: input.services } : {}),
    ...(input.creationKey ? { creationKey: input.creationKey } : {}),
  });
}
