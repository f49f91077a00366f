/** Phone-number facts that are safe to show or log: never the whole number. */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** The last two digits, for "a code was sent to the number ending 42". */
export function hintForNumber(e164: string): string {
  return e164.replace(/\D/g, '').slice(-2);
}

/** "+44•••••••23": enough to tell numbers apart in a log, not enough to dial. */
export function maskNumber(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  return `+${digits.slice(0, Math.min(2, digits.length - 2))}${'•'.repeat(Math.max(0, digits.length - 4))}${digits.slice(-2)}`;
}

/** The country calling code ("44" for +44 7700 900123), or null when the number does not parse. */
export function callingCodeOf(e164: string): string | null {
  return parsePhoneNumberFromString(e164)?.countryCallingCode ?? null;
}
