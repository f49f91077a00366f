import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneTimeList, createUserChosenLogin } from '../../src/accounts/alt-logins.js';
import { listAuditEvents } from '../../src/audit.js';
import { addUser, createWebHarness, csrfIn, text, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
let userId: number;
const PASSWORD = 'correct horse 1';

beforeAll(async () => {
  h = await createWebHarness();
  userId = (await addUser(h, 'alice', PASSWORD)).id;
});
afterAll(() => h.close());

async function refusals(reason: string) {
  const events = await listAuditEvents(h.ctx.db, { events: ['web.request-refused'] });
  return events.filter((e) => e.details.reason === reason);
}

describe('login page', () => {
  it('is a form that works without JavaScript and sends strict security headers', async () => {
    const res = await new WebClient(h).get('/login');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3)/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves its stylesheet from our own origin under a hashed name', async () => {
    const html = await (await new WebClient(h).get('/login')).text();
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1]!;
    expect(href).toMatch(/^\/static\/style\.[0-9a-f]{12}\.css$/);
    const css = await new WebClient(h).get(href);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await css.text()).toContain('@media print');
  });

  it('says only "Wrong username or password" for an unknown user and for a wrong password', async () => {
    const a = await new WebClient(h).post('/login', { username: 'nobody', password: 'whatever 123' });
    const b = await new WebClient(h).post('/login', { username: 'alice', password: 'wrong password' });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    const [ta, tb] = [await a.text(), await b.text()];
    expect(ta).toContain('Wrong username or password.');
    expect(tb).toContain('Wrong username or password.');
    expect(a.headers.getSetCookie()).toEqual([]);
  });

  it('says when to try again after repeated failures', async () => {
    await addUser(h, 'victim', 'victim password 1');
    const client = new WebClient(h);
    let res: Response | undefined;
    for (let i = 0; i < 12; i++) {
      res = await client.post('/login', { username: 'victim', password: `wrong ${i} password` });
      if (res.status === 429) break;
    }
    expect(res!.status).toBe(429);
    expect(text(await res!.text())).toMatch(/Try again in \d+ (second|minute)/);
    expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('sessions in the browser', () => {
  it('logs in with the main password: a fresh HttpOnly SameSite cookie and a header saying how', async () => {
    const client = new WebClient(h);
    const res = await client.post('/login', { username: 'alice', password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('postern_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    const options = await client.get('/options/security');
    expect(options.status).toBe(200);
    expect(text(await options.text())).toContain('Signed in as <strong>alice</strong> with your main password');
  });

  it('uses a Secure __Host- cookie when PUBLIC_URL is https', async () => {
    const secure = await createWebHarness({ PUBLIC_URL: 'https://mail.example.test' });
    try {
      await addUser(secure, 'bob', PASSWORD);
      const client = new WebClient(secure);
      const res = await client.post('/login', { username: 'bob', password: PASSWORD });
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-postern_session='))!;
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).not.toMatch(/Domain=/i);
      expect((await client.get('/mail')).status).not.toBe(303);
    } finally {
      await secure.close();
    }
  });

  it('gives a new token at each login, ending the one the browser had (no session fixation)', async () => {
    const client = new WebClient(h);
    await client.login('alice', PASSWORD);
    const first = client.cookies.get('postern_session')!;
    await client.login('alice', PASSWORD);
    const second = client.cookies.get('postern_session')!;
    expect(second).not.toBe(first);
    const replay = new WebClient(h);
    replay.cookies.set('postern_session', first);
    expect((await replay.get('/mail')).headers.get('location')).toBe('/login');
  });

  it('ends the session on the server at logout: the replayed token gets the login page (GET) or 401 (POST), audited', async () => {
    const client = new WebClient(h);
    await client.login('alice', PASSWORD);
    const token = client.cookies.get('postern_session')!;
    const csrf = await client.csrf('/options/security');
    const out = await client.post('/logout', { _csrf: csrf });
    expect(out.headers.get('location')).toBe('/login?signed-out=1');
    expect(client.cookies.has('postern_session')).toBe(false);

    const thief = new WebClient(h);
    thief.cookies.set('postern_session', token);
    const page = await thief.get('/options/security');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    thief.cookies.set('postern_session', token);
    const post = await thief.post('/options/security/sessions/revoke-others', { _csrf: csrf });
    expect(post.status).toBe(401);
    expect(await post.text()).toContain('Your session has ended');
    expect((await refusals('session-invalid')).filter((e) => e.userId === userId).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a forged cross-site form post with 403, audited', async () => {
    const client = new WebClient(h);
    await client.login('alice', PASSWORD);
    const csrf = await client.csrf('/options/security');
    const res = await client.post('/logout', { _csrf: csrf }, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('did not come from Postern');
    expect((await client.get('/mail')).status).not.toBe(303);
    expect((await refusals('cross-origin-form')).length).toBeGreaterThan(0);
  });

  it('refuses a same-origin post without this session’s CSRF token with 403, audited', async () => {
    const client = new WebClient(h);
    await client.login('alice', PASSWORD);
    const res = await client.post('/options/security/sessions/revoke-others', { _csrf: 'not-the-token' });
    expect(res.status).toBe(403);
    expect((await refusals('csrf-token-invalid')).some((e) => e.userId === userId)).toBe(true);
  });

  it('refuses an oversized request body with 413', async () => {
    const res = await new WebClient(h).post('/login', { username: 'alice', password: 'x'.repeat(100_000) });
    expect(res.status).toBe(413);
  });

  it('shows a friendly 404 and never a stack trace', async () => {
    const res = await new WebClient(h).get('/no/such/page');
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('There is nothing at this address.');
    expect(html).not.toMatch(/at .*\.ts:\d+|Error:/);
  });
});

describe('alternative logins on the login page', () => {
  it('logs in with a one-time code once; the same code is refused afterwards', async () => {
    const user = await addUser(h, 'carol', PASSWORD);
    const { codes } = await createOneTimeList(h.ctx, { userId: user.id, count: 5, restricted: true });
    const first = new WebClient(h);
    await first.login('carol', codes[2]!.code);
    const options = await first.get('/options/alt-logins');
    expect(options.status).toBe(403); // restricted sessions get no Options at all
    expect(await options.text()).toContain('This is a restricted login');
    const mail = await first.get('/login');
    expect(mail.headers.get('location')).toBe('/mail');
    const again = await new WebClient(h).post('/login', { username: 'carol', password: codes[2]!.code });
    expect(again.status).toBe(401);
  });

  it('an SMS password leads to the code page, and with the right code into a 10-minute session', async () => {
    const { startFakeTwilio, fakeTwilioEnv } = await import('../helpers/fake-twilio.js');
    const fake = await startFakeTwilio();
    const sms = await createWebHarness(fakeTwilioEnv(fake, { PUBLIC_URL: 'http://127.0.0.1:8080' }));
    try {
      const user = await addUser(sms, 'dave', PASSWORD, { mobile: '+447911123442' });
      const { grantPersonalCredits } = await import('./harness.js');
      await grantPersonalCredits(sms, user.id, 3);
      await createUserChosenLogin(sms.ctx, { userId: user.id, kind: 'sms', secret: 'sms password 1', restricted: true });
      const client = new WebClient(sms);
      const res = await client.post('/login', { username: 'dave', password: 'sms password 1' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login/code');
      expect(res.headers.getSetCookie().some((c) => c.startsWith('postern_session='))).toBe(false);
      const page = text(await (await client.get('/login/code')).text());
      expect(page).toContain('•••• ••42');
      expect(page).toMatch(/expires in (9|10) minutes/);
      expect(page).toMatch(/request a new code in \d+ seconds/);

      // "Send a new code" during the cool-down: the reason is shown and the code already sent keeps working.
      const early = await client.post('/login/code/resend', {});
      expect(early.headers.get('location')).toBe('/login/code?not-sent=1');
      expect(text(await (await client.get('/login/code?not-sent=1')).text())).toContain('No new code was sent');
      expect(fake.messages).toHaveLength(1);

      const wrong = await client.post('/login/code', { code: '000000' === fake.lastCodeFor('+447911123442') ? '111111' : '000000' });
      expect(wrong.status).toBe(401);
      const ok = await client.post('/login/code', { code: fake.lastCodeFor('+447911123442')! });
      expect(ok.headers.get('location')).toBe('/mail');
      const { validateWebSession } = await import('../../src/auth/web-sessions.js');
      const lookup = await validateWebSession(sms.ctx, decodeURIComponent(client.cookies.get('postern_session')!));
      expect(lookup).toMatchObject({ ok: true, session: { method: 'sms', restricted: true, idleTimeoutSeconds: 600 } });
    } finally {
      await sms.close();
      await fake.close();
    }
  });

  it('does not let a forged pending cookie type codes against someone else’s challenge', async () => {
    const client = new WebClient(h);
    client.cookies.set('postern_pending', `1.${Date.now() + 600_000}.${'A'.repeat(43)}`);
    const res = await client.post('/login/code', { code: '123456' });
    expect(res.headers.get('location')).toBe('/login?code-expired=1');
  });

  it('shows why no code could be sent (no mobile number) instead of failing', async () => {
    const user = await addUser(h, 'erin', PASSWORD);
    await createUserChosenLogin(h.ctx, { userId: user.id, kind: 'sms', secret: 'sms password 2' });
    const res = await new WebClient(h).post('/login', { username: 'erin', password: 'sms password 2' });
    expect(res.status).toBe(503);
    expect(text(await res.text())).toContain('No mobile number is set on your default personality');
  });
});

export { csrfIn };
