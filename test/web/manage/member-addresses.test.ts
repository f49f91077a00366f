// Manage → Members, "Give address" (HTTP level, PostgreSQL and PGlite): an administrator gives a member an
// address in a domain the operator assigned to the group; it is proven at once and the member can send as
// it. Outside the group's domains, for a non-member, an address another user owns, or by a non-admin:
// refused with one readable sentence, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giveMemberAddress } from '../../../src/accounts/group-admin.js';
import { addGroupDomain } from '../../../src/accounts/group-domains.js';
import { listPersonalities } from '../../../src/accounts/personalities.js';
import { createUser } from '../../../src/accounts/users.js';
import { authorizeSender, sendableAddresses } from '../../../src/submission/index.js';
import { createWebHarness, csrfIn, text, type WebHarness } from '../harness.js';
import { createGroups, steppedUp, type Groups } from './fixtures.js';

let h: WebHarness;
let g: Groups;
beforeAll(async () => {
  h = await createWebHarness();
  g = await createGroups(h);
  await addGroupDomain(h.ctx, { groupId: g.acme.id, domain: 'acme.example' });
});
afterAll(() => h.close());

const membersPath = () => `/manage/${g.acme.id}/members`;

async function give(username: 'ada' | 'mel', memberId: number, address: string) {
  const client = await steppedUp(h, username);
  const page = await client.get(username === 'ada' ? membersPath() : '/mail');
  const csrf = csrfIn(await page.text());
  return client.post(`${membersPath()}/${memberId}/address`, { _csrf: csrf, address });
}

describe('Manage → Members: give a member an address in the group’s domain', () => {
  it('the page offers it; the address is verified at once and the member can send as it', async () => {
    const ada = await steppedUp(h, 'ada');
    const page = text(await (await ada.get(membersPath())).text());
    expect(page).toContain('Addresses in acme.example can be given to members here');
    expect(page).toContain(`action="${membersPath()}/${g.ids.mel}/address"`);
    expect(await authorizeSender(h.ctx, g.ids.mel, 'mel.work@acme.example')).not.toBeNull();

    const res = await give('ada', g.ids.mel, 'Mel.Work@Acme.Example');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${membersPath()}?ok=address`);
    expect(await sendableAddresses(h.ctx, g.ids.mel)).toContain('mel.work@acme.example');
    expect(await authorizeSender(h.ctx, g.ids.mel, 'mel.work@acme.example')).toBeNull();
    expect((await listPersonalities(h.ctx, g.ids.mel)).map((p) => p.email)).toContain('mel.work@acme.example');
    // Given twice: nothing more is made.
    expect((await give('ada', g.ids.mel, 'mel.work@acme.example')).status).toBe(303);
    expect((await listPersonalities(h.ctx, g.ids.mel)).filter((p) => p.email === 'mel.work@acme.example')).toHaveLength(1);
  });

  it('an address outside the group’s domain is refused with a sentence naming the domain, and nothing is proven', async () => {
    const res = await give('ada', g.ids.mel, 'mel@bank.example');
    expect(res.status).toBe(422);
    expect(text(await res.text())).toContain("mel@bank.example is not in this business or family's domain (acme.example): members can be given addresses there only.");
    expect(await sendableAddresses(h.ctx, g.ids.mel)).not.toContain('mel@bank.example');
  });

  it('a user of another group, and an address another user owns, are refused', async () => {
    const other = await give('ada', g.ids.bob, 'bob@acme.example');
    expect(other.status).toBe(422);
    expect(text(await other.text())).toContain('That user is not a member of this business or family.');
    expect(await sendableAddresses(h.ctx, g.ids.bob)).not.toContain('bob@acme.example');

    await createUser(h.ctx, { username: 'outsider', password: 'outsider password', email: 'taken@acme.example' });
    const taken = await give('ada', g.ids.mel, 'taken@acme.example');
    expect(taken.status).toBe(422);
    expect(text(await taken.text())).toContain('That address belongs to another user.');
    expect(await sendableAddresses(h.ctx, g.ids.mel)).not.toContain('taken@acme.example');
  });

  it('a member who is not an administrator is refused (403 on the web, a sentence from the domain)', async () => {
    const res = await give('mel', g.ids.mel, 'mel.boss@acme.example');
    expect(res.status).toBe(403);
    expect(await sendableAddresses(h.ctx, g.ids.mel)).not.toContain('mel.boss@acme.example');
    const e = await giveMemberAddress(h.ctx, { groupId: g.acme.id, memberUserId: g.ids.mel, address: 'mel.boss@acme.example', actorUserId: g.ids.mel }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'INVALID_INPUT', userMessage: 'Only an administrator of this business or family can give members addresses.' });
  });
});
