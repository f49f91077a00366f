// The owner's known browser (web/known-device.ts), on PostgreSQL and on PGlite: an account under attack
// holds every address it has not logged in from to a small budget, and an attacker behind the same hotel
// network can spend that address's budget. The owner's own browser, carrying the signed cookie from an
// earlier login, still gets in from there; a fresh browser, a forged cookie or another user's cookie do not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { ACCOUNT_UNDER_ATTACK_FAILURES, UNDER_ATTACK_TRIES_PER_ADDRESS } from '../../src/auth/throttle.js';
import { cookiePolicy } from '../../web/cookies.js';
import { knownDeviceCookieName } from '../../web/known-device.js';
import { addUser, createWebHarness, WebClient, type WebHarness } from './harness.js';

let h: WebHarness;
beforeAll(async () => {
  h = await createWebHarness();
});
afterAll(() => h.close());

const HOTEL = '192.0.2.150';

async function loginFrom(client: WebClient, ip: string, username: string, password: string) {
  return client.post('/login', { username, password }, { 'x-test-client-ip': ip });
}

describe('known browser during an attack', () => {
  it('the owner’s browser gets in from a spent address; fresh, forged and other-user cookies do not', async () => {
    const owner = await addUser(h, 'traveller', 'owner password here');
    await addUser(h, 'neighbour', 'neighbour password');
    const name = knownDeviceCookieName(cookiePolicy(h.ctx.config));

    // At home, the owner's laptop logs in once: it now carries the cookie, long-lived and HttpOnly.
    const laptop = new WebClient(h);
    const first = await loginFrom(laptop, '198.51.100.200', 'traveller', 'owner password here');
    expect(first.status).toBe(303);
    const set = first.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Lax/i);
    expect(Number(/Max-Age=(\d+)/i.exec(set!)?.[1])).toBeGreaterThan(30 * 24 * 3600);
    expect(laptop.cookies.get(name)).toBeDefined();

    // A botnet puts the account under attack, and the attacker at the hotel spends the hotel's budget.
    for (let i = 0; i < ACCOUNT_UNDER_ATTACK_FAILURES + 2; i++)
      await authenticate(h.ctx, { username: 'traveller', secret: `botnet ${i}`, service: 'imap', ip: `100.64.${i}.9` });
    for (let i = 0; i < UNDER_ATTACK_TRIES_PER_ADDRESS; i++)
      await authenticate(h.ctx, { username: 'traveller', secret: `hotel ${i}`, service: 'imap', ip: HOTEL });

    // A fresh browser at the hotel (the kiosk) is refused, even with the right password.
    const kiosk = new WebClient(h);
    expect((await loginFrom(kiosk, HOTEL, 'traveller', 'owner password here')).status).toBe(429);

    // A forged cookie naming the owner, and one signed for the owner under another key, give nothing.
    const forged = new WebClient(h);
    const far = Date.now() + 86_400_000;
    forged.cookies.set(name, `${owner.id}.${far}.${'A'.repeat(43)}`);
    expect((await loginFrom(forged, HOTEL, 'traveller', 'owner password here')).status).toBe(429);
    const tampered = new WebClient(h);
    tampered.cookies.set(name, laptop.cookies.get(name)!.replace(/^\d+\./, `${owner.id + 1}.`));
    expect((await loginFrom(tampered, HOTEL, 'traveller', 'owner password here')).status).toBe(429);

    // A genuine cookie of another user (the neighbour logged in on this browser) gives nothing either.
    const shared = new WebClient(h);
    expect((await loginFrom(shared, '198.51.100.201', 'neighbour', 'neighbour password')).status).toBe(303);
    expect(shared.cookies.get(name)).toBeDefined();
    await shared.post('/logout', { _csrf: await shared.csrf('/mail') }, { 'x-test-client-ip': '198.51.100.201' });
    expect((await loginFrom(shared, HOTEL, 'traveller', 'owner password here')).status).toBe(429);

    // The owner's own laptop, at the hotel: in.
    const res = await loginFrom(laptop, HOTEL, 'traveller', 'owner password here');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/mail');
  });
});
