/**
 * Two groups for the Manage tests: "Acme Ltd" (administrator ada, member mel) and "Bobs Family"
 * (administrator bob), plus clients logged in with the main password and the step-up done.
 */
import { addGroupMember, createGroup, type Group } from '../../../src/accounts/groups.js';
import { addUser, WebClient, type WebHarness } from '../harness.js';

export const PASSWORDS = { ada: 'ada main password', mel: 'mel main password', bob: 'bob main password' } as const;

export interface Groups {
  acme: Group;
  bobs: Group;
  ids: { ada: number; mel: number; bob: number };
}

export async function createGroups(h: WebHarness): Promise<Groups> {
  const ada = await addUser(h, 'ada', PASSWORDS.ada);
  const mel = await addUser(h, 'mel', PASSWORDS.mel);
  const bob = await addUser(h, 'bob', PASSWORDS.bob);
  const acme = await createGroup(h.ctx, { name: 'Acme Ltd', kind: 'business' });
  const bobs = await createGroup(h.ctx, { name: 'Bobs Family', kind: 'family' });
  await addGroupMember(h.ctx, { groupId: acme.id, userId: ada.id, isAdmin: true });
  await addGroupMember(h.ctx, { groupId: acme.id, userId: mel.id });
  await addGroupMember(h.ctx, { groupId: bobs.id, userId: bob.id, isAdmin: true });
  return { acme, bobs, ids: { ada: ada.id, mel: mel.id, bob: bob.id } };
}

/** Logged in with the main password and stepped up, so changes are allowed for 5 minutes. */
export async function steppedUp(h: WebHarness, username: keyof typeof PASSWORDS): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login(username, PASSWORDS[username]);
  const res = await client.stepUp(PASSWORDS[username]);
  if (res.status !== 303) throw new Error(`step-up failed: ${res.status}`);
  return client;
}
