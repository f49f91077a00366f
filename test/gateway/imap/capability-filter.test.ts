import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { carriesCapabilities, filterCapabilities, filterCapabilityText } from '../../../gateway/imap/capability-filter.js';

/** What Dovecot 2.3.19 announces after login, with a few extras. */
const DOVECOT = ('IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS '
  + 'THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED '
  + 'I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE '
  + 'SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE COMPRESS=DEFLATE '
  + 'QUOTA ACL RIGHTS=texk METADATA').split(' ');

const NEVER = ['COMPRESS=DEFLATE', 'STARTTLS', 'LOGINDISABLED', 'AUTH=PLAIN', 'AUTH=XOAUTH2', 'SASL-IR', 'LOGIN-REFERRALS',
  'UNAUTHENTICATE', 'LITERAL+', 'UTF8=ACCEPT', 'CATENATE', 'URLAUTH', 'NOTIFY', 'I18NLEVEL=2', 'X-FOO', 'XLIST'];

describe('filterCapabilities', () => {
  it('keeps what the gateway supports from a Dovecot list, and offers LITERAL+ and APPENDLIMIT', () => {
    expect(filterCapabilities(DOVECOT, { maxMessageSize: 1000 }).join(' ')).toBe(
      'IMAP4rev1 ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND UNSELECT '
      + 'CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN '
      + 'CONTEXT=SEARCH LIST-STATUS BINARY MOVE PREVIEW STATUS=SIZE SAVEDATE SPECIAL-USE QUOTA ACL RIGHTS=texk '
      + 'METADATA LITERAL+ APPENDLIMIT=1000',
    );
  });

  it('offers MULTIAPPEND only when the store takes it', () => {
    expect(filterCapabilities(['IMAP4rev1'])).not.toContain('MULTIAPPEND');
    expect(filterCapabilities(['IMAP4rev1', 'multiappend'])).toContain('multiappend');
  });

  it.each(NEVER)('never passes %s, in any case', (cap) => {
    expect(filterCapabilities([cap, cap.toLowerCase()])).toEqual(['LITERAL+', 'APPENDLIMIT=52428800']);
  });

  it('hides METADATA and QUOTASET from restricted sessions', () => {
    expect(filterCapabilities(['IMAP4rev1', 'METADATA', 'METADATA-SERVER', 'QUOTASET', 'QUOTA'], { restricted: true }))
      .toEqual(['IMAP4rev1', 'QUOTA', 'LITERAL+', 'APPENDLIMIT=52428800']);
  });

  it('advertises the smaller of upstream APPENDLIMIT and our message size', () => {
    expect(filterCapabilities(['APPENDLIMIT=1000'], { maxMessageSize: 5000 })).toContain('APPENDLIMIT=1000');
    expect(filterCapabilities(['APPENDLIMIT=99999999999'], { maxMessageSize: 5000 })).toContain('APPENDLIMIT=5000');
    expect(filterCapabilities(['APPENDLIMIT'], { maxMessageSize: 5000 })).toContain('APPENDLIMIT=5000');
    expect(filterCapabilities(['APPENDLIMIT=abc', 'IMAP4rev2'], { maxMessageSize: 5000 })).toEqual(['IMAP4rev2', 'LITERAL+', 'APPENDLIMIT=5000']);
  });

  it('drops duplicates and bare prefixes', () => {
    expect(filterCapabilities(['IDLE', 'idle', 'THREAD=', 'RIGHTS='])).toEqual(['IDLE', 'LITERAL+', 'APPENDLIMIT=52428800']);
  });

  it('passes only allow-listed names whatever upstream sends', () => {
    const allowed = /^(IMAP4REV[12]|ID|ENABLE|IDLE|NAMESPACE|UIDPLUS|MOVE|CONDSTORE|QRESYNC|ESEARCH|ESORT|SORT|SORT=DISPLAY|CHILDREN|UNSELECT|SPECIAL-USE|CREATE-SPECIAL-USE|LIST-EXTENDED|LIST-STATUS|LIST-MYRIGHTS|QUOTA|ACL|BINARY|WITHIN|SEARCHRES|STATUS=SIZE|SAVEDATE|I18NLEVEL=1|MULTISEARCH|OBJECTID|PREVIEW|FUZZY|CONTEXT=SEARCH|CONTEXT=SORT|MULTIAPPEND|THREAD=.+|RIGHTS=.+|QUOTA=RES-.+|LITERAL\+|APPENDLIMIT=\d+)$/;
    const cap = fc.oneof(fc.constantFrom(...DOVECOT, ...NEVER), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\s\]]/.test(s)));
    fc.assert(fc.property(fc.array(cap), fc.boolean(), (caps, restricted) => {
      for (const out of filterCapabilities(caps, { restricted })) {
        const upper = out.toUpperCase();
        if (!restricted && /^(METADATA|METADATA-SERVER|QUOTASET)$/.test(upper)) continue;
        expect(upper).toMatch(allowed);
      }
    }));
  });
});

describe('filterCapabilityText', () => {
  const filter = (line: string) => filterCapabilityText(Buffer.from(line), { maxMessageSize: 100 }).toString();

  it('filters untagged CAPABILITY', () => {
    expect(filter('* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN IDLE COMPRESS=DEFLATE')).toBe('* CAPABILITY IMAP4rev1 IDLE LITERAL+ APPENDLIMIT=100');
    expect(filter('* capability imap4rev1')).toBe('* CAPABILITY imap4rev1 LITERAL+ APPENDLIMIT=100');
  });

  it('filters the CAPABILITY code of the greeting, PREAUTH, and tagged OK', () => {
    expect(filter('* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.')).toBe('* OK [CAPABILITY IMAP4rev1 LITERAL+ APPENDLIMIT=100] Dovecot ready.');
    expect(filter('* PREAUTH [CAPABILITY IMAP4rev1 UNAUTHENTICATE] hi')).toBe('* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ APPENDLIMIT=100] hi');
    expect(filter('a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE MOVE] Logged in')).toBe('a1 OK [CAPABILITY IMAP4rev1 MOVE LITERAL+ APPENDLIMIT=100] Logged in');
    expect(filter('a1 ok [capability IMAP4rev1]')).toBe('a1 ok [CAPABILITY IMAP4rev1 LITERAL+ APPENDLIMIT=100]');
  });

  it('leaves other lines alone', () => {
    for (const line of ['* 1 EXISTS', '* OK [ALERT] CAPABILITY COMPRESS=DEFLATE', '* ENABLED QRESYNC', 'a1 OK [READ-WRITE] done']) {
      const text = Buffer.from(line);
      expect(filterCapabilityText(text)).toBe(text);
      expect(carriesCapabilities(text)).toBe(false);
    }
    expect(carriesCapabilities(Buffer.from('* OK [CAPABILITY IMAP4rev1] hi'))).toBe(true);
  });
});
