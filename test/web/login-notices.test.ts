/**
 * Login notices (issue 16) against the real Dovecot and the dev MTA: after an SMS login and after a
 * one-time code the owner's INBOX holds a notice naming the login, the method, the address and the
 * browser; a second use within the hour sends nothing and the next notice summarises it; the answer
 * links refuse a tampered, expired or used token with a page that says which; no mail ever goes to an
 * unverified default address.
 */
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAppPassword, createOneTimeList, createTotpLogin, createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { totpCode } from '../../src/auth/totp.js';
import { authenticate } from '../../src/auth/authenticate.js';
import { createUser } from '../../src/accounts/users.js';
import { listAuditEvents } from '../../src/audit.js';
import { loginNotices, loginNoticeUses } from '../../src/db/schema.js';
import { pruneOldNotices, sendDueNotices, settleLoginNotices } from '../../src/notices/index.js';
import { startDevMta, type DevMta } from '../../src/upstream/dev-mta.js';
import { fakeTwilioEnv, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { storeClient } from '../helpers/mailstore.js';
import { createWebHarness, csrfIn, grantPersonalCredits, text, WebClient, type WebHarness } from './harness.js';

const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const PASSWORD = 'main password 1';

let fake: FakeTwilio;
let h: WebHarness;
let mta: DevMta;

beforeAll(async () => {
  fake = await startFakeTwilio();
  h = await createWebHarness(fakeTwilioEnv(fake));
  mta = await startDevMta(h.ctx);
  h.ctx.devMta = { host: mta.host, port: mta.port };
});
afterAll(async () => {
  await settleLoginNotices(h.ctx);
  await mta?.close();
  await h?.close();
  await fake?.close();
});

/** A user whose default address is proven (operator-created) unless `verified` is false. */
async function newUser(prefix: string, options: { verified?: boolean; mobile?: string } = {}) {
  const username = `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  const user = await createUser(h.ctx, { username, password: PASSWORD, email: `${username}@example.test`, mobile: options.mobile, addressesProven: options.verified ?? true });
  return { username, id: user.id, address: `${username}@example.test` };
}

interface Mail {
  subject: string;
  body: string;
}

/** The notices in `mailbox`'s INBOX, oldest first, decoded as a mail reader would. */
async function inbox(mailbox: string): Promise<Mail[]> {
  const c = await storeClient(mailbox);
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    try {
      const out: Mail[] = [];
      if (!c.mailbox || !c.mailbox.exists) return out;
      for await (const m of c.fetch('1:*', { envelope: true, bodyParts: ['1'] })) {
        out.push({ subject: m.envelope?.subject ?? '', body: m.bodyParts?.get('1')?.toString() ?? '' });
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

/** Waits (bounded) until `mailbox` holds `count` messages. */
async function waitForMail(mailbox: string, count: number): Promise<Mail[]> {
  await settleLoginNotices(h.ctx);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mails = await inbox(mailbox);
    if (mails.length >= count || Date.now() > deadline) return mails;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The text part, quoted-printable decoded. */
function decoded(body: string): string {
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function linkIn(mail: Mail, answer: 'mine' | 'revoke'): string {
  const url = new RegExp(`https?://\\S+/login-notice\\?t=[^\\s]*\\.${answer}\\.[^\\s]+`).exec(decoded(mail.body))![0];
  const u = new URL(url);
  return u.pathname + u.search;
}

function tokenOf(link: string): string {
  return new URL(`http://x${link}`).searchParams.get('t')!;
}

describe('login notices', () => {
  it('mails the owner after an SMS login: login, method, time, address and browser', async () => {
    const u = await newUser('nsms', { mobile: '+447911123411' });
    await grantPersonalCredits(h, u.id, 3);
    await createUserChosenLogin(h.ctx, { userId: u.id, kind: 'sms', secret: 'sms password 1', label: 'Kiosk SMS' });
    const client = new WebClient(h);
    expect((await client.post('/login', { username: u.username, password: 'sms password 1' }, { 'user-agent': CHROME_UA })).headers.get('location')).toBe('/login/code');
    const ok = await client.post('/login/code', { code: fake.lastCodeFor('+447911123411')! }, { 'user-agent': CHROME_UA });
    expect(ok.headers.get('location')).toBe('/mail');

    const [mail] = await waitForMail(u.username, 1);
    expect(mail!.subject).toBe('Postern: your login "Kiosk SMS" was used');
    const body = decoded(mail!.body);
    expect(body).toContain('Login: Kiosk SMS');
    expect(body).toContain('Method: SMS password + code');
    expect(body).toContain(`Client address: ${client.ip}`);
    expect(body).toContain('Client: Chrome 131 on Linux');
    expect(body).toMatch(/Time: \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(body).toContain("This wasn't me: revoke this login and end its sessions:");
    expect(linkIn(mail!, 'mine')).toMatch(/^\/login-notice\?t=/);
    expect(linkIn(mail!, 'revoke')).toMatch(/^\/login-notice\?t=/);
  });

  it('mails the owner after a one-time code; a second use within the hour sends nothing and the next notice summarises', async () => {
    const u = await newUser('notp');
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 6, label: 'Printed list' });
    const client = new WebClient(h);
    const signedIn = await client.post('/login', { username: u.username, password: codes[0]!.code }, { 'user-agent': FIREFOX_UA });
    expect(signedIn.headers.get('location')).toBe('/mail');
    const first = await waitForMail(u.username, 1);
    expect(first).toHaveLength(1);
    expect(decoded(first[0]!.body)).toContain('Method: One-time code');
    expect(decoded(first[0]!.body)).toContain(`Client address: ${client.ip}`);
    expect(decoded(first[0]!.body)).toContain('Client: Firefox 133 on Windows');

    // Two more uses in the same hour: no mail.
    await new WebClient(h).login(u.username, codes[1]!.code);
    await new WebClient(h).login(u.username, codes[2]!.code);
    await settleLoginNotices(h.ctx);
    expect(await inbox(u.username)).toHaveLength(1);

    // An hour later, the next use's notice names the two in between.
    const realClock = h.ctx.clock;
    h.ctx.clock = () => new Date(Date.now() + 61 * 60_000);
    try {
      await new WebClient(h).login(u.username, codes[3]!.code);
      const mails = await waitForMail(u.username, 2);
      expect(mails).toHaveLength(2);
      expect(mails[1]!.subject).toBe('Postern: your login "Printed list" was used (3 uses)');
      expect(decoded(mails[1]!.body)).toMatch(/And 2 more uses since \d{4}-\d\d-\d\d \d\d:\d\d UTC:/);
    } finally {
      h.ctx.clock = realClock;
    }
  });

  it('refuses a tampered, expired or used link with a page that says which; GET changes nothing', async () => {
    const u = await newUser('nlnk');
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 3, label: 'Wallet list' });
    await new WebClient(h).login(u.username, codes[0]!.code);
    const [mail] = await waitForMail(u.username, 1);
    const mine = linkIn(mail!, 'mine');
    const revoke = linkIn(mail!, 'revoke');
    const visitor = new WebClient(h);

    // Tampered: the answer swapped, or one character of the signature changed.
    const swapped = mine.replace('.mine.', '.revoke.');
    const flipped = mine.slice(0, -1) + (mine.endsWith('0') ? '1' : '0');
    for (const bad of [swapped, flipped, '/login-notice?t=garbage']) {
      const res = await visitor.get(bad);
      expect(res.status).toBe(400);
      expect(text(await res.text())).toContain('This link is not valid');
    }
    const forged = await visitor.post('/login-notice', { t: tokenOf(swapped) });
    expect(forged.status).toBe(400);

    // GET twice shows the page and uses nothing up.
    for (let i = 0; i < 2; i++) {
      const page = text(await (await visitor.get(revoke)).text());
      expect(page).toContain('Revoke this login and end its sessions');
      expect(page).toContain('Wallet list');
    }
    const [row] = await h.ctx.db.select().from(loginNotices).where(eq(loginNotices.userId, u.id));
    expect(row!.answeredAt).toBeNull();

    // Expired: eight days later.
    const realClock = h.ctx.clock;
    h.ctx.clock = () => new Date(Date.now() + 8 * 24 * 3600_000);
    try {
      const res = await visitor.get(mine);
      expect(res.status).toBe(410);
      expect(text(await res.text())).toContain('This link has expired');
      expect((await visitor.post('/login-notice', { t: tokenOf(mine) })).status).toBe(410);
    } finally {
      h.ctx.clock = realClock;
    }

    // "This was me" once: that link is used up, and the login still works.
    const ok = await visitor.post('/login-notice', { t: tokenOf(mine) });
    expect(ok.status).toBe(200);
    expect(text(await ok.text())).toContain('Noted: this use of “Wallet list” was you.');
    const mineAgain = await visitor.post('/login-notice', { t: tokenOf(mine) });
    expect(mineAgain.status).toBe(410);
    expect(text(await mineAgain.text())).toContain('This notice was already answered');
    await new WebClient(h).login(u.username, codes[1]!.code);
    // Changing one's mind: "This wasn't me" still works once after "This was me", and revokes.
    const revoked = await visitor.post('/login-notice', { t: tokenOf(revoke) });
    expect(revoked.status).toBe(200);
    expect(text(await revoked.text())).toContain('“Wallet list” is revoked');
    for (const again of [mine, revoke]) {
      const res = await visitor.post('/login-notice', { t: tokenOf(again) });
      expect(res.status).toBe(410);
      expect(text(await res.text())).toContain('This notice was already answered');
    }
    const afterRevoke = await new WebClient(h).post('/login', { username: u.username, password: codes[2]!.code });
    expect(afterRevoke.status).toBe(401);
    const answered = await listAuditEvents(h.ctx.db, { userId: u.id, events: ['login.notice-answered'] });
    expect(answered.map((e) => e.details.answer).sort()).toEqual(['mine', 'revoke']);
  });

  it('sends nothing when the default address is not verified', async () => {
    const u = await newUser('nunv', { verified: false });
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 1, label: 'Unverified list' });
    await new WebClient(h).login(u.username, codes[0]!.code);
    await settleLoginNotices(h.ctx);
    expect(await h.ctx.db.select().from(loginNotices).where(eq(loginNotices.userId, u.id))).toEqual([]);
    expect(await listAuditEvents(h.ctx.db, { userId: u.id, events: ['login.notice-sent'] })).toEqual([]);
    expect(await inbox(u.username)).toEqual([]);
  });

  it('Options → Security: the owner turns one-time codes off (after re-entering the password); restricted and alternate-login sessions cannot', async () => {
    const u = await newUser('nset');
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 3, label: 'Drawer list' });
    await createUserChosenLogin(h.ctx, { userId: u.id, kind: 'password', secret: 'kiosk password 1', restricted: true, label: 'kiosk' });
    await createUserChosenLogin(h.ctx, { userId: u.id, kind: 'password', secret: 'laptop password 1', label: 'laptop' });
    const kinds = ['password', 'recovery', 'sms', 'totp', 'app'];

    for (const secret of ['kiosk password 1', 'laptop password 1']) {
      const other = new WebClient(h);
      await other.login(u.username, secret);
      const page = await (await other.get('/options/security')).text();
      expect(page).toMatch(/<input type="checkbox" name="kind" value="otp" checked="" disabled=""/);
      expect(page).not.toContain('Save login notices');
      expect((await other.post('/options/security/notices', { _csrf: csrfIn(page), kind: kinds })).status).toBe(403);
    }
    await settleLoginNotices(h.ctx);
    const before = (await inbox(u.username)).length;

    const owner = new WebClient(h);
    await owner.login(u.username, PASSWORD);
    const page = await (await owner.get('/options/security')).text();
    expect(text(page)).toContain(`When one of these logins is used, Postern mails <strong>${u.address}</strong>`);
    // Without a fresh step-up the change waits on the confirm page, then runs.
    const asked = await owner.post('/options/security/notices', { _csrf: csrfIn(page), kind: kinds });
    expect(asked.headers.get('location')).toMatch(/^\/options\/confirm\?next=%2Foptions%2Fsecurity&pending=/);
    const confirmPage = await (await owner.get(asked.headers.get('location')!)).text();
    const pending = /name="pending" value="([^"]+)"/.exec(confirmPage)![1]!;
    const done = await owner.post('/options/confirm', { _csrf: csrfIn(confirmPage), password: PASSWORD, next: '/options/security', pending });
    expect(done.headers.get('location')).toBe('/options/security?notices=saved');
    const saved = await (await owner.get('/options/security?notices=saved')).text();
    expect(saved).toContain('Login notices saved.');
    expect(saved).toMatch(/<input type="checkbox" name="kind" value="otp"\/>/);

    await new WebClient(h).login(u.username, codes[0]!.code);
    await settleLoginNotices(h.ctx);
    expect(await inbox(u.username)).toHaveLength(before);
    expect(await h.ctx.db.select().from(loginNoticeUses).where(eq(loginNoticeUses.userId, u.id))).toHaveLength(before);
  });

  it('an app password notifies only from an address or client it was not used from before', async () => {
    const u = await newUser('napp');
    const { secret } = await createAppPassword(h.ctx, { userId: u.id, services: ['imap'], label: 'Phone mail app' });
    const login = (ip: string, client: string) => authenticate(h.ctx, { username: u.username, secret, service: 'imap', ip, client });
    const uses = async () => {
      await settleLoginNotices(h.ctx);
      // Sorted: each login's notice is queued in the background, so two quick logins may be stored in either order.
      return (await h.ctx.db.select().from(loginNoticeUses).where(eq(loginNoticeUses.userId, u.id))).map((r) => `${r.ip} ${r.client}`).sort();
    };
    expect(await login('203.0.113.5', 'Thunderbird 128')).toMatchObject({ ok: true });
    expect(await uses()).toEqual(['203.0.113.5 Thunderbird 128']);
    const [mail] = await waitForMail(u.username, 1);
    expect(decoded(mail!.body)).toContain('Client: Thunderbird 128');
    expect(decoded(mail!.body)).toContain('Method: App password');
    try {
      // Same address and client again, an hour later: no notice.
      h.ctx.clock = () => new Date(Date.now() + 61 * 60_000);
      expect(await login('203.0.113.5', 'Thunderbird 128')).toMatchObject({ ok: true });
      expect(await uses()).toHaveLength(1);
      // A new address, a new program (not answered from the cache of logins): each noted.
      expect(await login('203.0.113.9', 'Thunderbird 128')).toMatchObject({ ok: true });
      expect(await login('203.0.113.5', 'K-9 Mail 6')).toMatchObject({ ok: true });
      expect(await uses()).toEqual(['203.0.113.5 K-9 Mail 6', '203.0.113.5 Thunderbird 128', '203.0.113.9 Thunderbird 128']);
    } finally {
      h.ctx.clock = undefined;
    }
  });

  it('a login succeeds when the notice cannot be sent; the failure is logged with a code', async () => {
    const u = await newUser('ndwn');
    const { codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 1, label: 'Down list' });
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const errors: Array<Record<string, unknown>> = [];
    const realMta = h.ctx.devMta;
    const child = h.ctx.log.child.bind(h.ctx.log);
    const spy = vi.spyOn(h.ctx.log, 'child').mockImplementation((bindings, options) => {
      const log = child(bindings, options);
      if (bindings.component === 'login-notices') vi.spyOn(log, 'error').mockImplementation((o: unknown) => void errors.push(o as Record<string, unknown>));
      return log;
    });
    h.ctx.devMta = { host: '127.0.0.1', port };
    try {
      const client = new WebClient(h);
      await client.login(u.username, codes[0]!.code);
      expect((await client.get('/mail')).status).toBe(200);
      await settleLoginNotices(h.ctx);
    } finally {
      h.ctx.devMta = realMta;
      spy.mockRestore();
    }
    expect(errors).toEqual([expect.objectContaining({ code: 'LOGIN_NOTICE_NOT_SENT', userId: u.id, reason: 'SEND_UPSTREAM_DOWN' })]);
    expect(await listAuditEvents(h.ctx.db, { userId: u.id, events: ['login.notice-sent'] })).toEqual([]);
  });

  it('a recovery list says so; uses that waited out the hour go out from the sweep without a new use', async () => {
    const u = await newUser('nrec');
    const { login, codes } = await createOneTimeList(h.ctx, { userId: u.id, count: 3, label: 'Lost phone list', recovery: true });
    await new WebClient(h).login(u.username, codes[0]!.code);
    const [first] = await waitForMail(u.username, 1);
    expect(decoded(first!.body)).toContain('Method: Recovery list (one-time code)');
    await new WebClient(h).login(u.username, codes[1]!.code);
    await settleLoginNotices(h.ctx);
    expect(await sendDueNotices(h.ctx, { loginId: login.id })).toBe(0);
    const later = { ...h.ctx, clock: () => new Date(Date.now() + 61 * 60_000) };
    // Several instances sweeping at once: one summary.
    const sent = await Promise.all([1, 2, 3].map(() => sendDueNotices(later, { loginId: login.id })));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(1);
    const mails = await waitForMail(u.username, 2);
    expect(mails).toHaveLength(2);
    expect(decoded(mails[1]!.body)).toContain('Login: Lost phone list');

    // A month on, the notices and the uses they reported are forgotten; nothing is queued again.
    const monthLater = { ...h.ctx, clock: () => new Date(Date.now() + 32 * 24 * 3600_000) };
    expect(await pruneOldNotices(monthLater)).toBeGreaterThanOrEqual(2);
    expect(await h.ctx.db.select().from(loginNotices).where(eq(loginNotices.loginId, login.id))).toEqual([]);
    expect(await h.ctx.db.select().from(loginNoticeUses).where(eq(loginNoticeUses.loginId, login.id))).toEqual([]);
  });

  it('mails the owner after an authenticator-app login from a mail program, naming the program', async () => {
    const u = await newUser('ntot');
    const secret = crypto.randomBytes(20);
    await createTotpLogin(h.ctx, { userId: u.id, secret: 'phone pass 1', totpSecret: secret, services: ['imap'], label: 'Phone app' });
    const r = await authenticate(h.ctx, { username: u.username, secret: `phone pass 1${totpCode(secret, new Date())}`, service: 'imap', ip: '203.0.113.77', client: 'Thunderbird 128.5' });
    expect(r).toMatchObject({ ok: true, method: 'totp' });
    const [mail] = await waitForMail(u.username, 1);
    const body = decoded(mail!.body);
    expect(body).toContain('Method: Password + authenticator app');
    expect(body).toContain('Client address: 203.0.113.77');
    expect(body).toContain('Client: Thunderbird 128.5');
    expect(body).toContain('Service: IMAP (mail program)');
  });
});
