/**
 * Authenticator app on the web through app.request(): the enrolment's sealed pending secret (bound to the
 * session, expiring, created once per form), and the login's second page (signed, nothing about the
 * account, throttled, not replayable).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpLogin, listAltLogins } from '../../src/accounts/alt-logins.js';
import { base32Decode, hotp, timeStep } from '../../src/auth/totp.js';
import { addUser, createWebHarness, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let userId: number;
const PASSWORD = 'tess main password';

beforeAll(async () => {
  h = await createWebHarness();
  userId = (await addUser(h, 'tess', PASSWORD)).id;
});
afterAll(() => h.close());

async function steppedUp(): Promise<WebClient> {
  const client = new WebClient(h);
  await client.login('tess', PASSWORD);
  expect((await client.stepUp(PASSWORD)).status).toBe(303);
  return client;
}

/** Starts an enrolment and returns what the confirmation form needs, and the secret as the page shows it. */
async function start(client: WebClient) {
  const page = await (await client.get('/options/alt-logins')).text();
  const csrf = /action="\/options\/alt-logins\/totp\/start">[\s\S]*?name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  const res = await client.post('/options/alt-logins/totp/start', { _csrf: csrf });
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('<svg');
  const grouped = /id="totp-secret">\s*([A-Z2-7 ]+?)\s*</.exec(html)![1]!;
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)![1]!;
  return { form: { _csrf: field('_csrf'), form_key: field('form_key'), enrolment: field('enrolment') }, secret: base32Decode(grouped)!, grouped };
}

const nowCode = (secret: Buffer, steps = 0) => hotp(secret, timeStep(new Date()) + steps);
const fill = (code: string, label = 'Phone') => ({ label, secret: 'tess phone pass', confirm: 'tess phone pass', services: ['web', 'imap'], code });

describe('enrolment', () => {
  it('the pending secret is sealed: not in clear in the form, and it opens only in the session that drew it', async () => {
    const a = await steppedUp();
    const { form, secret, grouped } = await start(a);
    expect(form.enrolment).not.toContain(grouped.replace(/ /g, ''));
    expect(form.enrolment).not.toContain(secret.toString('base64url'));
    const b = await steppedUp();
    const csrfB = await b.csrf('/options/alt-logins');
    const stolen = await b.post('/options/alt-logins/totp', { ...form, _csrf: csrfB, ...fill(nowCode(secret), 'Stolen') });
    expect(stolen.status).toBe(422);
    expect(text(await stolen.text())).toContain('That setup page is out of date');
    expect((await listAltLogins(h.ctx, userId)).map((l) => l.label)).not.toContain('Stolen');
  });

  it('expires after ten minutes', async () => {
    const client = await steppedUp();
    const { form, secret } = await start(client);
    h.ctx.clock = () => new Date(Date.now() + 11 * 60_000);
    try {
      const res = await client.post('/options/alt-logins/totp', { ...form, ...fill(hotp(secret, timeStep(h.ctx.clock!())), 'Late') });
      expect(res.status).toBe(422);
      expect(text(await res.text())).toContain('That setup page is out of date');
    } finally {
      delete h.ctx.clock;
    }
  });

  it('a wrong code or mismatched passwords draw the same secret again; the form sent twice creates once', async () => {
    const client = await steppedUp();
    const { form, secret, grouped } = await start(client);
    const wrong = await client.post('/options/alt-logins/totp', { ...form, ...fill(nowCode(secret, 3)) });
    expect(wrong.status).toBe(422);
    const again = text(await wrong.text());
    expect(again).toContain('That code is not the current one');
    expect(again).toContain(grouped);
    const mismatch = await client.post('/options/alt-logins/totp', { ...form, ...fill(nowCode(secret)), confirm: 'something else' });
    expect(text(await mismatch.text())).toContain('The two passwords are not the same.');
    const ok = await client.post('/options/alt-logins/totp', { ...form, ...fill(nowCode(secret), 'Twice') });
    expect(ok.status).toBe(303);
    const twice = await client.post('/options/alt-logins/totp', { ...form, ...fill(nowCode(secret, 1), 'Twice') });
    expect(twice.status).toBe(409);
    expect((await listAltLogins(h.ctx, userId)).filter((l) => l.label === 'Twice')).toHaveLength(1);
  });
});

describe('the login code page', () => {
  async function withLogin() {
    const username = `t${crypto.randomBytes(3).toString('hex')}`;
    const user = await addUser(h, username, `main-${username}`);
    const secret = crypto.randomBytes(20);
    await createTotpLogin(h.ctx, { userId: user.id, secret: 'second pass 1', totpSecret: secret, label: 'Secret label' });
    return { username, secret };
  }

  it('names nothing of the account; a right code opens a session, a forged or replayed note does not', async () => {
    const { username, secret } = await withLogin();
    const client = new WebClient(h);
    const first = await client.post('/login', { username, password: 'second pass 1' });
    expect(first.headers.get('location')).toBe('/login/app-code');
    const page = await (await client.get('/login/app-code')).text();
    expect(page).not.toContain(username);
    expect(page).not.toContain('Secret label');
    const [name, note] = [...client.cookies].find(([k]) => k.includes('totp_pending'))!;
    expect((await client.post('/login/app-code', { code: nowCode(secret, 2) })).status).toBe(401);
    expect((await client.post('/login/app-code', { code: 'éééééé' })).status).toBe(401);

    // A note edited to another login id is refused before any code is looked at.
    const forged = new WebClient(h);
    forged.cookies.set(name, note.replace(/^\d+/, (id) => String(Number(id) + 1)));
    expect((await forged.post('/login/app-code', { code: '123456' })).headers.get('location')).toBe('/login?code-expired=1');

    const copy = new WebClient(h);
    copy.cookies.set(name, note);
    const ok = await client.post('/login/app-code', { code: nowCode(secret) });
    expect(ok.headers.get('location')).toBe('/mail');
    // A copy of the note taken before the login is void once the login has been used, even with a new code.
    expect((await copy.post('/login/app-code', { code: nowCode(secret, 1) })).status).toBe(401);
  });

  it('wrong codes are throttled', async () => {
    const { username, secret } = await withLogin();
    const client = new WebClient(h);
    await client.post('/login', { username, password: 'second pass 1' });
    const wrong = nowCode(secret) === '000000' ? '000001' : '000000';
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) last = await client.post('/login/app-code', { code: wrong });
    expect(last!.status).toBe(429);
    expect(text(await last!.text())).toContain('Too many failed attempts');
  });
});

describe('recovery list on Options', () => {
  it('the one-time list form can mark the list as the recovery path, and the list says so', async () => {
    const client = await steppedUp();
    const page = await (await client.get('/options/alt-logins')).text();
    const card = /action="\/options\/alt-logins\/otp">[\s\S]*?name="_csrf" value="([^"]+)"[\s\S]*?name="form_key" value="([^"]+)"/.exec(page)!;
    const res = await client.post('/options/alt-logins/otp', { _csrf: card[1]!, form_key: card[2]!, label: 'Lost phone', count: '5', recovery: '1' });
    expect(res.status).toBe(200);
    expect((await listAltLogins(h.ctx, userId)).find((l) => l.label === 'Lost phone')).toMatchObject({ kind: 'otp', recovery: true });
    expect(text(await (await client.get('/options/alt-logins')).text())).toContain('recovery list for a lost phone');
  });
});
