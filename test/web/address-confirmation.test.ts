/**
 * Proving a new personality address by the link mailed to it (through the upstream MTA, here the SMTP
 * sink): the address is unusable until the link is opened in the same user's session; the link works
 * once, for 24 hours, and nobody else's session can use it (or use it up). Operators and group domains
 * prove addresses without a link (CLI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMailboxesOwning } from '../../src/accounts/addresses.js';
import { confirmAddress, sendAddressConfirmation } from '../../src/accounts/address-confirmations.js';
import { createGroup, addGroupMember } from '../../src/accounts/groups.js';
import { createMemberAccount } from '../../src/accounts/group-admin.js';
import { createPersonality, listPersonalities } from '../../src/accounts/personalities.js';
import { createUser } from '../../src/accounts/users.js';
import { sendableAddresses } from '../../src/submission/index.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { postern } from '../src/cli/cli-harness.js';
import { createWebHarness, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let sink: SmtpSink;
let olivia: number;
let mallory: number;
const PASSWORD = 'main password 1';

beforeAll(async () => {
  sink = await startSmtpSink();
  h = await createWebHarness({ UPSTREAM_SMTP: `${sink.host}:${sink.port}` });
  olivia = (await createUser(h.ctx, { username: 'olivia', password: PASSWORD, email: 'olivia@example.test' })).id;
  mallory = (await createUser(h.ctx, { username: 'mallory', password: PASSWORD, email: 'mallory@example.test' })).id;
});

afterAll(async () => {
  await h?.close();
  await sink?.close();
});

async function steppedUp(username: string): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login(username, PASSWORD);
  expect((await client.stepUp(PASSWORD)).status).toBe(303);
  return client;
}

/** The link in the newest confirmation mail to `address`, as path + query. */
async function linkMailedTo(address: string, count: number): Promise<string> {
  const mails = (await sink.waitForMessages(count)).filter((m) => m.to.includes(address));
  // The mail is quoted-printable, as a mail reader would decode it.
  const body = mails.at(-1)!.body.toString().replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const url = /https?:\/\/\S+\/options\/personalities\/confirm\?token=[A-Za-z0-9_-]+/.exec(body)![0];
  return new URL(url).pathname + new URL(url).search;
}

describe('confirming a personality address by link', () => {
  it('mails a link when an address is added, and the address stays unusable until it is opened', async () => {
    const client = await steppedUp('olivia');
    const csrf = await client.csrf('/options/personalities');
    const res = await client.post('/options/personalities/new', { _csrf: csrf, name: 'Work', email: 'olivia@work.example', mobile: '' });
    expect(res.status).toBe(303);
    const mail = (await sink.waitForMessages(1)).at(-1)!;
    expect(mail.to).toEqual(['olivia@work.example']);
    expect(mail.body.toString()).toMatch(/Subject: Confirm your address for Postern/);
    expect(await sendableAddresses(h.ctx, olivia)).toEqual(['olivia@example.test']);
    // Nor does the dev MTA deliver mail for it to her INBOX yet.
    expect(await findMailboxesOwning(h.ctx, 'olivia@work.example')).toEqual([]);
    const page = text(await (await client.get('/options/personalities')).text());
    expect(page).toMatch(/Work\s+<span><span class="tag warn">waiting for confirmation<\/span>/);
    expect(page).toContain('Send again');
    expect(page).toMatch(/olivia <span class="tag">default<\/span> <span class="tag">verified<\/span>/);
  });

  it("refuses the link in another user's session without using it up; the right user confirms once", async () => {
    const link = await linkMailedTo('olivia@work.example', 1);
    const token = new URL(`http://x${link}`).searchParams.get('token')!;
    const other = await steppedUp('mallory');
    expect((await other.get(link)).status).toBe(404);
    const csrfM = await other.csrf('/options/personalities');
    const stolen = await other.post('/options/personalities/confirm', { _csrf: csrfM, token });
    expect(stolen.status).toBe(422);
    expect(text(await stolen.text())).toContain('This confirmation link is not valid');
    expect(await sendableAddresses(h.ctx, mallory)).toEqual(['mallory@example.test']);

    const client = await steppedUp('olivia');
    const page = text(await (await client.get(link)).text());
    expect(page).toContain('Use <strong>olivia@work.example</strong> as one of your addresses?');
    const csrf = await client.csrf('/options/personalities');
    const ok = await client.post('/options/personalities/confirm', { _csrf: csrf, token });
    expect(ok.headers.get('location')).toBe('/options/personalities?ok=confirmed');
    expect(await sendableAddresses(h.ctx, olivia)).toEqual(['olivia@example.test', 'olivia@work.example']);
    expect(await findMailboxesOwning(h.ctx, 'olivia+news@work.example')).toEqual(['olivia']);
    expect(text(await (await client.get('/options/personalities')).text())).toMatch(/Work\s+<span class="tag">verified<\/span>/);

    // Replayed: used up.
    const again = await client.post('/options/personalities/confirm', { _csrf: csrf, token });
    expect(again.status).toBe(422);
  });

  it('expires a link after 24 hours, and "send again" waits a minute between mails', async () => {
    const p = await createPersonality(h.ctx, { userId: olivia, name: 'Home', email: 'olivia@home.example' });
    const before = sink.messages.length;
    await sendAddressConfirmation(h.ctx, { userId: olivia, personalityId: p.id });
    const link = await linkMailedTo('olivia@home.example', before + 1);
    const token = new URL(`http://x${link}`).searchParams.get('token')!;

    const client = await steppedUp('olivia');
    const csrf = await client.csrf('/options/personalities');
    const tooSoon = await client.post(`/options/personalities/${p.id}/send-confirmation`, { _csrf: csrf });
    expect(tooSoon.status).toBe(422);
    expect(text(await tooSoon.text())).toContain('Please wait a minute');

    const tomorrow = { ...h.ctx, clock: () => new Date(Date.now() + 24 * 3600_000 + 60_000) };
    await expect(confirmAddress(tomorrow, { userId: olivia, token })).rejects.toMatchObject({ code: 'CONFIRMATION_INVALID' });
    // A new link (a minute later is enough) works.
    await sendAddressConfirmation(tomorrow, { userId: olivia, personalityId: p.id });
    const fresh = new URL(`http://x${await linkMailedTo('olivia@home.example', before + 2)}`).searchParams.get('token')!;
    expect(fresh).not.toBe(token);
    expect(await confirmAddress(tomorrow, { userId: olivia, token: fresh })).toBe('olivia@home.example');
  });

  it('gives an address to one user only: a second user can neither add nor confirm it', async () => {
    const e = await createPersonality(h.ctx, { userId: mallory, name: 'Not mine', email: 'Olivia@Work.example' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ADDRESS_TAKEN' });
    expect((await listPersonalities(h.ctx, mallory)).map((x) => x.email)).toEqual(['mallory@example.test']);
  });
});

describe('proof by an operator or a group domain', () => {
  it('`postern personality verify` proves an address the user put on a personality, and nothing else', async () => {
    await createPersonality(h.ctx, { userId: mallory, name: 'Shop', email: 'mallory@shop.example' });
    expect((await postern(h.ctx, ['personality', 'verify', 'mallory', 'elsewhere@shop.example'])).code).not.toBe(0);
    const run = await postern(h.ctx, ['personality', 'verify', 'mallory', 'Mallory@Shop.example']);
    expect(run.stdout).toBe('mallory@shop.example is now a verified address of mallory\n');
    expect(await sendableAddresses(h.ctx, mallory)).toContain('mallory@shop.example');
  });

  it("an administrator's new member is proven only in a domain the operator gave the group", async () => {
    const group = await createGroup(h.ctx, { name: 'Acme', kind: 'business' });
    const admin = await createUser(h.ctx, { username: 'boss', password: PASSWORD, email: 'boss@acme.example' });
    await addGroupMember(h.ctx, { groupId: group.id, userId: admin.id, isAdmin: true });
    expect((await postern(h.ctx, ['group', 'domain', 'add', 'Acme', 'Acme.Example'])).stdout).toMatch(/^acme\.example now belongs to "Acme"/);
    const inDomain = await createMemberAccount(h.ctx, { groupId: group.id, username: 'wes', email: 'wes@acme.example', actorUserId: admin.id });
    const outside = await createMemberAccount(h.ctx, { groupId: group.id, username: 'ann', email: 'ceo@bank.example', actorUserId: admin.id });
    expect(await sendableAddresses(h.ctx, inDomain.user.id)).toEqual(['wes@acme.example']);
    expect(await sendableAddresses(h.ctx, outside.user.id)).toEqual([]);
  });
});
