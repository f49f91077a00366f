import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { serializeError } from '../../src/log.js';

describe('serializeError', () => {
  it('keeps the failed SQL but not its bound values (hashes, phone numbers)', () => {
    const err = new DrizzleQueryError('insert into "web_sessions" ("token_hash") values ($1)', ['tokenhash-5e3cret', '+447700900123'], new Error('connection reset'));
    const out = JSON.stringify(serializeError(err));
    expect(out).toContain('insert into \\"web_sessions\\"');
    expect(out).toContain('connection reset');
    expect(out).not.toContain('5e3cret');
    expect(out).not.toContain('447700900123');
  });

  it('scrubs bound values from a query error wrapped as the cause of another error', () => {
    const inner = new DrizzleQueryError('select 1 where $1', ['hunter2-app-password-hash'], undefined as unknown as Error);
    const out = JSON.stringify(serializeError(new Error('login failed', { cause: inner })));
    expect(out).toContain('login failed');
    expect(out).not.toContain('hunter2');
  });

  it('drops the values PostgreSQL echoes in a duplicate-key detail, also when wrapped', () => {
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint "otp_codes_user_hash"'), {
      code: '23505',
      detail: 'Key (user_id, code_hash)=(7, 9f2c0ffee-keyed-hash) already exists.',
    });
    const direct = JSON.stringify(serializeError(pgError));
    expect(direct).toContain('23505');
    expect(direct).not.toContain('9f2c0ffee');
    const wrapped = JSON.stringify(serializeError(new Error('creating the list failed', { cause: pgError })));
    expect(wrapped).toContain('otp_codes_user_hash');
    expect(wrapped).not.toContain('9f2c0ffee');
  });
});
