// RFC 6238 arithmetic: the Appendix B test vectors (SHA-1 rows), base32 (RFC 4648 §10), the drift window
// and the once-per-step rule, all on an injected time.
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, groupedSecret, hotp, matchTotpStep, otpauthUri, timeStep, totpCode } from '../../../src/auth/totp.js';

const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('RFC 6238 Appendix B, SHA-1', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('at %i s the 8-digit code is %s, and the 6-digit code its last six digits', (seconds, code) => {
    const at = new Date(seconds * 1000);
    expect(totpCode(RFC_SECRET, at, 8)).toBe(code);
    expect(totpCode(RFC_SECRET, at)).toBe(code.slice(2));
  });

  it('RFC 4226 Appendix D: HOTP values for counters 0 and 9', () => {
    expect(hotp(RFC_SECRET, 0)).toBe('755224');
    expect(hotp(RFC_SECRET, 9)).toBe('520489');
  });
});

describe('base32 (RFC 4648 §10)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('%j ↔ %s', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    if (encoded) expect(base32Decode(encoded.toLowerCase())?.toString()).toBe(plain);
  });

  it('reads a secret typed in groups, in any case, and refuses what is not base32', () => {
    expect(base32Decode('mzxw 6ytb-oi')?.toString()).toBe('foobar');
    expect(base32Decode('MZXW1')).toBeNull();
    expect(groupedSecret(Buffer.from('foobarfoob'))).toBe('MZXW 6YTB OJTG 633C');
  });
});

describe('accepting a code', () => {
  const at = new Date(1_800_000_015_000);
  const now = timeStep(at);
  const codeAt = (steps: number) => hotp(RFC_SECRET, now + steps);

  it('accepts the current code and one step either side, and refuses two steps away', () => {
    expect(matchTotpStep(RFC_SECRET, codeAt(0), at, null)).toBe(now);
    expect(matchTotpStep(RFC_SECRET, codeAt(-1), at, null)).toBe(now - 1);
    expect(matchTotpStep(RFC_SECRET, codeAt(1), at, null)).toBe(now + 1);
    expect(matchTotpStep(RFC_SECRET, codeAt(-2), at, null)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, codeAt(2), at, null)).toBeNull();
  });

  it('refuses a code whose step is not later than the last one used', () => {
    expect(matchTotpStep(RFC_SECRET, codeAt(0), at, now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, codeAt(-1), at, now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, codeAt(1), at, now)).toBe(now + 1);
  });

  it('takes spaces inside a code, refuses other shapes', () => {
    const c = codeAt(0);
    expect(matchTotpStep(RFC_SECRET, `${c.slice(0, 3)} ${c.slice(3)}`, at, null)).toBe(now);
    expect(matchTotpStep(RFC_SECRET, `${c}0`, at, null)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, c.slice(0, 5), at, null)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '', at, null)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, 'éééééé', at, null)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, `${c}\u0000`, at, null)).toBeNull();
  });
});

it('builds the otpauth URI authenticator apps read', () => {
  const uri = otpauthUri({ issuer: 'Postern', account: 'ann@example.org', secret: Buffer.from('foobar') });
  expect(uri).toBe('otpauth://totp/Postern:ann%40example.org?secret=MZXW6YTBOI&issuer=Postern&algorithm=SHA1&digits=6&period=30');
});
