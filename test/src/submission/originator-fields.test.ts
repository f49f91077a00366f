/** From:/Sender: as a mail reader would see them: hostile shapes, one line each. */
import { describe, expect, it } from 'vitest';
import { readAddresses, readHeaderFields } from '../../../src/submission/originator-fields.js';

describe('readAddresses', () => {
  it.each([
    ['Alice <alice@example.test>', ['alice@example.test']],
    ['"The CEO" <ceo@example.org>', ['ceo@example.org']],
    ['alice@example.test', ['alice@example.test']],
    ['a@x.test, B <b@y.test>', ['a@x.test', 'b@y.test']],
    ['"Smith, J" <j@x.test>', ['j@x.test']],
    ['Team: a@x.test, B <b@x.test>;', ['a@x.test', 'b@x.test']],
    // An encoded-word is display text: only the addr-spec counts.
    ['=?utf-8?q?ceo@bank.test?= <alice@example.test>', ['alice@example.test']],
    ['ceo@bank.test (alice@example.test)', ['ceo@bank.test']],
  ])('reads %s as %j', (value, addresses) => {
    expect(readAddresses(value)).toEqual({ ok: true, addresses });
  });

  it.each([
    'alice@example.test <ceo@bank.test>',
    'Alice <alice@example.test> ceo@bank.test',
    '<alice@example.test>ceo@bank.test',
    '<ceo@bank.test> <alice@example.test>',
    'alice@example.test <>',
    'Alice Smith alice@example.test',
    'Alice <alice@example.test>\u0001',
  ])('refuses %j as ambiguous: readers disagree about which address it shows', (value) => {
    expect(readAddresses(value)).toEqual({ ok: false, problem: 'ambiguous' });
  });

  it.each(['=?utf-8?B?PGNlb0BiYW5rLnRlc3Q+?=', 'undisclosed:;', '', 'Alice'])('finds no address in %j', (value) => {
    expect(readAddresses(value)).toEqual({ ok: false, problem: 'no-address' });
  });
});

describe('readHeaderFields', () => {
  const names = (m: string) => readHeaderFields(Buffer.from(m)).fields.map((f) => `${f.name}=${f.value}`);

  it('unfolds, stops at the first empty line and reads "From :" as From', () => {
    expect(names('From : Alice\r\n <a@x.test>\r\nSubject: s\r\n\r\nFrom: body@x.test\r\n')).toEqual(['from=Alice <a@x.test>', 'subject=s']);
  });

  it('sees every From header, bare LF line ends too', () => {
    expect(names('From: a@x.test\nfrom: ceo@bank.test\n\nbody')).toEqual(['from=a@x.test', 'from=ceo@bank.test']);
  });

  it('finds no header in a message that starts with an empty line', () => {
    expect(names('\r\nFrom: ceo@bank.test\r\n')).toEqual([]);
  });
});
