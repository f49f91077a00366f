import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addGroupMember,
  createGroup,
  findGroupOfUser,
  isGroupAdmin,
  listGroupMembers,
  removeGroupMember,
  setGroupAdmin,
  setGroupAllowSms,
} from '../../../src/accounts/groups.js';
import { createUser } from '../../../src/accounts/users.js';
import { listAuditEvents } from '../../../src/audit.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

describe('groups', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  const user = (name: string) => createUser(ctx, { username: name, password: 'correct horse' });

  it('creates a family with SMS logins off by default, and refuses a duplicate name', async () => {
    const g = await createGroup(ctx, { name: 'The Smiths', kind: 'family' });
    expect(g.allowSms).toBe(false);
    await expect(createGroup(ctx, { name: 'The Smiths', kind: 'business' })).rejects.toMatchObject({ code: 'GROUP_NAME_TAKEN' });
  });

  it('finds the group of a member, with their administrator flag', async () => {
    const g = await createGroup(ctx, { name: 'Acme', kind: 'business', allowSms: true });
    const boss = await user('boss');
    const clerk = await user('clerk');
    await addGroupMember(ctx, { groupId: g.id, userId: boss.id, isAdmin: true });
    await addGroupMember(ctx, { groupId: g.id, userId: clerk.id });
    expect(await findGroupOfUser(ctx, clerk.id)).toMatchObject({ name: 'Acme', allowSms: true, isAdmin: false });
    expect(await isGroupAdmin(ctx, g.id, boss.id)).toBe(true);
    expect(await isGroupAdmin(ctx, g.id, clerk.id)).toBe(false);
    expect((await listGroupMembers(ctx, g.id)).map((m) => m.username)).toEqual(['boss', 'clerk']);
    expect(await findGroupOfUser(ctx, (await user('loner')).id)).toBeNull();
  });

  it('a user belongs to at most one group', async () => {
    const a = await createGroup(ctx, { name: 'Alpha', kind: 'business' });
    const b = await createGroup(ctx, { name: 'Beta', kind: 'family' });
    const u = await user('twotimer');
    await addGroupMember(ctx, { groupId: a.id, userId: u.id });
    await expect(addGroupMember(ctx, { groupId: b.id, userId: u.id })).rejects.toMatchObject({ code: 'USER_ALREADY_IN_GROUP' });
  });

  it('the last administrator can neither leave nor step down; with a second one they can', async () => {
    const g = await createGroup(ctx, { name: 'Jones family', kind: 'family' });
    const mum = await user('mum');
    const dad = await user('dad');
    await addGroupMember(ctx, { groupId: g.id, userId: mum.id, isAdmin: true });
    await addGroupMember(ctx, { groupId: g.id, userId: dad.id });
    await expect(removeGroupMember(ctx, { groupId: g.id, userId: mum.id, actorUserId: mum.id })).rejects.toMatchObject({ code: 'LAST_GROUP_ADMIN' });
    await expect(setGroupAdmin(ctx, { groupId: g.id, userId: mum.id, isAdmin: false })).rejects.toMatchObject({ code: 'LAST_GROUP_ADMIN' });
    await setGroupAdmin(ctx, { groupId: g.id, userId: dad.id, isAdmin: true });
    await removeGroupMember(ctx, { groupId: g.id, userId: mum.id, actorUserId: mum.id });
    expect(await findGroupOfUser(ctx, mum.id)).toBeNull();
    await expect(removeGroupMember(ctx, { groupId: g.id, userId: dad.id })).rejects.toMatchObject({ code: 'LAST_GROUP_ADMIN' });
  });

  it('turning "Allow SMS two-factor logins" on is recorded in the group\'s audit log', async () => {
    const g = await createGroup(ctx, { name: 'Gamma', kind: 'business' });
    expect((await setGroupAllowSms(ctx, { groupId: g.id, allowSms: true })).allowSms).toBe(true);
    const events = await listAuditEvents(ctx.db, { groupId: g.id });
    expect(events[0]).toMatchObject({ event: 'group.changed', details: { change: 'allow-sms', allowSms: true } });
  });
});
