// The web's password forms under concurrency (run on PostgreSQL and on PGlite): "Confirm your password"
// and Options → Password count each submission before the password is checked (reserve, then settle), so
// 50 concurrent wrong submissions from a session are throttled exactly like 50 sent one after another —
// a hijacked session cannot guess the main password faster by sending in parallel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit.js';
import { THROTTLE_POLICIES } from '../../src/auth/throttle.js';
import { addUser, createWebHarness, WebClient, type WebHarness } from './harness.js';

/** Sequentially: 5 free failures, the 6th sets a 2 s delay, the 7th is refused. */
const ALLOWED = THROTTLE_POLICIES.pair.freeFailures + 1;
const BURST = 50;

let h: WebHarness;
beforeAll(async () => {
  h = await createWebHarness();
});
afterAll(() => h.close());

const tally = (statuses: number[]) => ({
  wrong: statuses.filter((s) => s === 401).length,
  throttled: statuses.filter((s) => s === 429).length,
});

describe('concurrent wrong passwords on the web forms', () => {
  it(`Confirm your password: ${BURST} at once, only the sequential allowance is checked; the right one then waits`, async () => {
    const user = await addUser(h, 'stepper', 'the real password');
    const client = new WebClient(h);
    await client.login('stepper', 'the real password');
    const csrf = await client.csrf('/options/confirm');
    const statuses = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => (await client.post('/options/confirm', { _csrf: csrf, password: `guess ${i}`, next: '/options' })).status),
    );
    expect(tally(statuses)).toEqual({ wrong: ALLOWED, throttled: BURST - ALLOWED });
    const failures = await listAuditEvents(h.ctx.db, { userId: user.id, events: ['login.failed'] });
    expect(failures).toHaveLength(ALLOWED);
    const after = await client.post('/options/confirm', { _csrf: csrf, password: 'the real password', next: '/options' });
    expect(after.status).toBe(429);
    expect(await after.text()).toContain('Too many failed attempts');
  });

  it(`Options → Password: ${BURST} at once with a wrong current password, only the sequential allowance is checked, nothing changes`, async () => {
    const user = await addUser(h, 'changer', 'the real password');
    const client = new WebClient(h);
    await client.login('changer', 'the real password');
    const csrf = await client.csrf('/options/password');
    const statuses = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const form = { _csrf: csrf, current: `guess ${i}`, password: 'new password 1', confirm: 'new password 1' };
        return (await client.post('/options/password', form)).status;
      }),
    );
    expect(tally(statuses)).toEqual({ wrong: ALLOWED, throttled: BURST - ALLOWED });
    expect(await listAuditEvents(h.ctx.db, { userId: user.id, events: ['password.changed'] })).toHaveLength(0);
    expect((await listAuditEvents(h.ctx.db, { userId: user.id, events: ['login.failed'] })).length).toBe(ALLOWED);
  });

  it('a right confirmation gives its count back: three typos, three right confirmations and three typos more are all checked', async () => {
    await addUser(h, 'typist', 'the real password');
    const client = new WebClient(h);
    await client.login('typist', 'the real password');
    for (let i = 0; i < 3; i++) expect((await client.stepUp(`typo ${i}`)).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await client.stepUp('the real password')).status).toBe(303);
    // 3 wrong counted, 3 right given back: 3 more wrong are free, the 7th attempt overall sets the delay.
    for (let i = 0; i < 3; i++) expect((await client.stepUp(`typo again ${i}`)).status).toBe(401);
  });
});
