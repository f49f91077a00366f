/** Phone-number facts that are safe to show or log (never the whole number), and which numbers get SMS. */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
// The max metadata knows each number range's type (mobile, premium rate, toll free …); the default
// metadata, used for parsing and validity everywhere else, does not.
import { parsePhoneNumberFromString as parseWithTypes, type NumberType } from 'libphonenumber-js/max';

/** What each refused type is called in the sentence a person reads. */
const NOT_MOBILE: Partial<Record<NonNullable<NumberType>, string>> = {
  PREMIUM_RATE: 'a premium-rate number',
  TOLL_FREE: 'a toll-free number',
  SHARED_COST: 'a shared-cost number',
  FIXED_LINE: 'a landline number',
  VOIP: 'an internet (VoIP) number',
  PERSONAL_NUMBER: 'a personal forwarding number',
  PAGER: 'a pager number',
  UAN: 'a company switchboard number',
  VOICEMAIL: 'a voicemail number',
};

/**
 * Why a number cannot be the Mobile number codes go to, or null when it can. Premium-rate and other
 * non-mobile numbers are the usual SMS-pumping vector (a code sent there earns its owner money), so only
 * mobile ranges (and ranges that may be mobile, as in North America) are taken; a range the metadata
 * cannot type is given the benefit of the doubt.
 */
export function smsRefusalForNumber(e164: string): string | null {
  const type = parseWithTypes(e164)?.getType();
  const kind = type ? NOT_MOBILE[type] : undefined;
  return kind ? `That is ${kind}, not a mobile number: codes are only sent to mobile numbers.` : null;
}

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
