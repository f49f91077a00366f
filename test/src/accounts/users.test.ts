import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePassword, createUser, findUserByName, setPassword, setUserDisabled, verifyMainPassword } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('users', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('stores the password as argon2id, never in clear', async () => {
    const u = await createUser(ctx, { username: 'Alice', password: 'correct horse battery' });
    expect(u.username).toBe('alice');
    expect(u.upstreamUser).toBe('alice');
    expect(u.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(await listAuditEvents(ctx.db, { userId: u.id }))).not.toContain('correct horse');
  });

  it('refuses names with the master separator, control characters or upper-case-only duplicates', async () => {
    await expect(createUser(ctx, { username: 'eve*master', password: 'correct horse' })).rejects.toMatchObject({ code: 'USERNAME_INVALID' });
    await expect(createUser(ctx, { username: 'eve\nx', password: 'correct horse' })).rejects.toMatchObject({ code: 'USERNAME_INVALID' });
    await expect(createUser(ctx, { username: 'ALICE', password: 'correct horse' })).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
    await expect(createUser(ctx, { username: 'bob', password: 'short' })).rejects.toMatchObject({ code: 'PASSWORD_TOO_SHORT' });
    expect(await findUserByName(ctx, 'bob')).toBeNull();
  });

  it('a password change needs the current password and is audited', async () => {
    const u = await createUser(ctx, { username: 'carl', password: 'first password' });
    await expect(changePassword(ctx, { userId: u.id, currentPassword: 'wrong one!', newPassword: 'second password' })).rejects.toMatchObject({
      code: 'PASSWORD_INCORRECT',
    });
    await changePassword(ctx, { userId: u.id, currentPassword: 'first password', newPassword: 'second password' });
    expect(await verifyMainPassword(ctx, u.id, 'second password')).toBe(true);
    expect(await verifyMainPassword(ctx, u.id, 'first password')).toBe(false);
    expect((await listAuditEvents(ctx.db, { userId: u.id, events: ['password.changed'] })).length).toBe(1);
  });

  it('an account created without a password must choose one, and setting it clears the flag', async () => {
    const u = await createUser(ctx, { username: 'dora' });
    expect(u.mustChangePassword).toBe(true);
    expect(await verifyMainPassword(ctx, u.id, '')).toBe(false);
    await setPassword(ctx, { userId: u.id, password: 'chosen at last' });
    expect((await findUserByName(ctx, 'dora'))!.mustChangePassword).toBe(false);
  });

  it('a disabled user fails even with the right password', async () => {
    const u = await createUser(ctx, { username: 'ed', password: 'correct horse' });
    await setUserDisabled(ctx, { userId: u.id, disabled: true });
    expect(await verifyMainPassword(ctx, u.id, 'correct horse')).toBe(false);
  });
});
