import { describe, expect, it } from 'vitest';
import { restrictRights } from '../../../gateway/imap/rights-filter.js';

describe('rights reported to a restricted session', () => {
  it.each([
    ['MYRIGHTS', '* MYRIGHTS INBOX lrwstipekxacd', '* MYRIGHTS INBOX lrwsipkc'],
    ['MYRIGHTS', '* MYRIGHTS "Sent Items" lrwstipekxacd', '* MYRIGHTS "Sent Items" lrwsipkc'],
    ['MYRIGHTS', '* MYRIGHTS "a \\"q\\" b" LRTE', '* MYRIGHTS "a \\"q\\" b" LR'],
    ['MYRIGHTS', '* MYRIGHTS Trash texda', '* MYRIGHTS Trash ""'],
    ['ACL', '* ACL INBOX alice lrwstipekxacd anyone lr', '* ACL INBOX alice lrwsipkc anyone lr'],
    // An identifier that looks like rights is not a rights position and is left alone.
    ['ACL', '* ACL INBOX texda lrte', '* ACL INBOX texda lr'],
    ['LISTRIGHTS', '* LISTRIGHTS INBOX bob "" l r s w i p k x t e a c d', '* LISTRIGHTS INBOX bob "" l r s w i p k c'],
  ])('%s: %s', (keyword, line, expected) => {
    expect(restrictRights(keyword, line)).toBe(expected);
  });

  it('refuses to guess when a literal is in the line', () => {
    expect(restrictRights('MYRIGHTS', '* MYRIGHTS {5}')).toBeNull();
    expect(restrictRights('ACL', '* ACL "INBOX')).toBeNull();
  });
});
