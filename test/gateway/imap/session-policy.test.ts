import { describe, expect, it } from 'vitest';
import type { Arg, Command } from '../../../gateway/imap/command-ast.js';
import { checkSessionCommand, decideCommand, filterClientId } from '../../../gateway/imap/session-policy.js';

const atom = (value: string): Arg => ({ type: 'atom', value });
const str = (value: string): Arg => ({ type: 'string', value: Buffer.from(value) });
const cmd = (name: string, ...args: Arg[]): Command => ({ tag: 'a', name, args });

describe('session gate', () => {
  it.each(['COMPRESS', 'UNAUTHENTICATE', 'STARTTLS'])('refuses %s after login in every session', (name) => {
    for (const state of ['authenticated', 'selected'] as const) {
      for (const restricted of [false, true]) {
        expect(decideCommand(cmd(name, ...(name === 'COMPRESS' ? [atom('DEFLATE')] : [])), { state, restricted }))
          .toMatchObject({ action: 'refuse', refusal: { status: 'NO', code: 'CANNOT' } });
      }
    }
  });

  it('lets the gateway run STARTTLS, LOGIN and AUTHENTICATE before login', () => {
    const state = 'not-authenticated';
    expect(checkSessionCommand(cmd('STARTTLS'), state)).toEqual({ action: 'allow' });
    expect(checkSessionCommand(cmd('LOGIN', atom('u'), atom('p')), state)).toEqual({ action: 'allow' });
    expect(checkSessionCommand(cmd('AUTHENTICATE', atom('PLAIN')), state)).toEqual({ action: 'allow' });
  });

  it('refuses commands outside their states (RFC 9051 §3)', () => {
    expect(checkSessionCommand(cmd('SELECT', atom('INBOX')), 'not-authenticated')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
    expect(checkSessionCommand(cmd('FETCH', atom('1'), atom('FLAGS')), 'authenticated')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
    expect(checkSessionCommand(cmd('LOGIN', atom('u'), atom('p')), 'selected')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
    expect(checkSessionCommand(cmd('ENABLE', atom('QRESYNC')), 'selected')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
    expect(checkSessionCommand(cmd('NOSUCH'), 'selected')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
  });

  it('keeps only extensions we offer in ENABLE', () => {
    const state = 'authenticated';
    expect(checkSessionCommand(cmd('ENABLE', atom('QRESYNC'), atom('condstore')), state)).toEqual({ action: 'allow' });
    expect(checkSessionCommand(cmd('ENABLE', atom('UTF8=ACCEPT'), atom('QRESYNC')), state)).toMatchObject({
      action: 'rewrite',
      command: { tag: 'a', name: 'ENABLE', args: [atom('QRESYNC')] },
    });
    expect(checkSessionCommand(cmd('ENABLE', atom('UTF8=ACCEPT')), state)).toEqual({ action: 'respond', untagged: ['ENABLED'], text: 'ENABLE completed' });
  });

  it('strips ID fields outside RFC 2971, such as x-originating-ip', () => {
    const id = cmd('ID', { type: 'list', items: [str('name'), str('Mail'), str('X-Originating-IP'), str('10.0.0.1'), str('version'), { type: 'nil' }] });
    expect(checkSessionCommand(id, 'not-authenticated')).toEqual({
      action: 'rewrite',
      command: { ...id, args: [{ type: 'list', items: [str('name'), str('Mail'), str('version'), { type: 'nil' }] }] },
      reason: 'ID fields outside RFC 2971',
    });
    const onlyX = cmd('ID', { type: 'list', items: [str('x-session-ext-id'), str('1')] });
    expect(checkSessionCommand(onlyX, 'selected')).toMatchObject({ action: 'rewrite', command: { args: [{ type: 'nil' }] } });
    expect(checkSessionCommand(cmd('ID', { type: 'nil' }), 'selected')).toEqual({ action: 'allow' });
  });

  it('refuses malformed ID parameters', () => {
    expect(filterClientId([str('name')])).toBeNull();
    expect(filterClientId([atom('name'), str('x')])).toBeNull();
    expect(filterClientId([str('name'), { type: 'list', items: [] }])).toBeNull();
    expect(checkSessionCommand(cmd('ID', { type: 'list', items: [str('name')] }), 'selected')).toMatchObject({ action: 'refuse', refusal: { status: 'BAD' } });
  });

  it('applies the restricted policy after the session gate', () => {
    expect(decideCommand(cmd('EXPUNGE'), { state: 'selected', restricted: false })).toEqual({ action: 'allow' });
    expect(decideCommand(cmd('EXPUNGE'), { state: 'selected', restricted: true })).toMatchObject({ action: 'refuse', refusal: { code: 'NOPERM' } });
    expect(decideCommand(cmd('CLOSE'), { state: 'selected', restricted: true })).toMatchObject({ action: 'rewrite', command: { name: 'UNSELECT' } });
    const id = cmd('ID', { type: 'list', items: [str('x-a'), str('b')] });
    expect(decideCommand(id, { state: 'selected', restricted: true })).toMatchObject({ action: 'rewrite', command: { args: [{ type: 'nil' }] } });
  });
});
