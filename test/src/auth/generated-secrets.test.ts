import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APP_PASSWORD_SYMBOLS,
  OTP_CODE_SYMBOLS,
  canonicalizeGenerated,
  generateAppPassword,
  generateOtpCode,
} from '../../../src/auth/generated-secrets.js';
import { equalDigests, keyedHash } from '../../../src/auth/keyed-hash.js';

describe('generated secrets', () => {
  it('one-time codes are 10 symbols of 5 bits (50 bits), grouped for typing', () => {
    const code = generateOtpCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    expect(OTP_CODE_SYMBOLS * 5).toBeGreaterThanOrEqual(40);
  });

  it('app passwords carry at least 128 bits', () => {
    expect(generateAppPassword()).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(APP_PASSWORD_SYMBOLS * 5).toBeGreaterThanOrEqual(128);
  });

  it('a code typed in lowercase, without the dash, with spaces or with O/I/L confusions still matches', () => {
    fc.assert(
      fc.property(fc.constant(null), () => {
        const code = generateOtpCode();
        const canonical = canonicalizeGenerated(code, OTP_CODE_SYMBOLS);
        const sloppy = code.toLowerCase().replace('-', ' ').replace(/0/g, 'o').replace(/1/g, 'l');
        expect(canonicalizeGenerated(sloppy, OTP_CODE_SYMBOLS)).toBe(canonical);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects strings that cannot be a code, so no lookup is made for them', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const c = canonicalizeGenerated(s, OTP_CODE_SYMBOLS);
        if (c !== null) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
      }),
    );
    expect(canonicalizeGenerated('hunter2hunter2', OTP_CODE_SYMBOLS)).toBeNull();
    expect(canonicalizeGenerated('UUUUU-UUUUU', OTP_CODE_SYMBOLS)).toBeNull();
  });

  it('does not repeat codes', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generateOtpCode()));
    expect(seen.size).toBe(2000);
  });
});

describe('keyed hash', () => {
  const key = Buffer.alloc(32, 7);

  it('separates purposes and parts, and depends on the key', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(keyedHash(key, 'otp-code', a)).not.toBe(keyedHash(key, 'app-password', a));
        expect(keyedHash(key, 'otp-code', a)).not.toBe(keyedHash(Buffer.alloc(32, 8), 'otp-code', a));
        if (a !== b) expect(keyedHash(key, 'otp-code', 1, a)).not.toBe(keyedHash(key, 'otp-code', 1, b));
      }),
    );
  });

  it('compares digests exactly', () => {
    const h = keyedHash(key, 'sms-code', 1, '123456');
    expect(equalDigests(h, keyedHash(key, 'sms-code', 1, '123456'))).toBe(true);
    expect(equalDigests(h, keyedHash(key, 'sms-code', 1, '123457'))).toBe(false);
    expect(equalDigests(h, h.slice(0, 10))).toBe(false);
    expect(equalDigests('', '')).toBe(false);
  });
});
