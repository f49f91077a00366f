/**
 * Two of the operator's metrics (issue #18) read where they are true: the IMAP client bytes from a real
 * gateway's sockets (an open connection is counted up to the scrape, a closed one exactly once), and the
 * groups low on SMS credits from the database at scrape time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup, setGroupAllowSms } from '../../../src/accounts/groups.js';
import { countGroupsLowOnCredits } from '../../../src/credits/accounts.js';
import { grantCredits } from '../../../src/credits/grant.js';
import { setLowCreditSource } from '../../../src/metrics/record.js';
import { metricsRegistry } from '../../../src/metrics/registry.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway } from '../../gateway/imap/live-gateway.js';

let live: LiveGateway;

beforeAll(async () => {
  live = await startLiveGateway();
});
afterAll(async () => {
  setLowCreditSource(null);
  await live?.close();
});

async function series(name: string): Promise<number> {
  const text = await metricsRegistry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

const RECEIVED = 'postern_imap_client_bytes_total{direction="received"}';
const SENT = 'postern_imap_client_bytes_total{direction="sent"}';

describe('postern_imap_client_bytes_total', () => {
  it('counts an open connection up to the scrape, and a closed one exactly once', async () => {
    const user = await createMailUser(live.ctx, 'mb');
    const before = { received: await series(RECEIVED), sent: await series(SENT) };
    const client = await RawClient.connect(live.port);
    await client.waitFor(/^\* OK /);
    expect(await client.login(user.username, user.app)).toMatch(/^L1 OK /);
    expect(await client.command('a1', 'SELECT INBOX')).toMatch(/^a1 OK/);
    // Still open: what it has sent and received so far is already counted.
    expect((await series(RECEIVED)) - before.received).toBe(client.socket.bytesWritten);
    expect((await series(SENT)) - before.sent).toBe(client.socket.bytesRead);

    expect(await client.command('a2', 'LOGOUT')).toMatch(/^a2 OK/);
    await client.waitClosed();
    // Closed, and scraped twice more: the rest is added once, never again.
    await series(RECEIVED);
    expect((await series(RECEIVED)) - before.received).toBe(client.socket.bytesWritten);
    expect((await series(SENT)) - before.sent).toBe(client.socket.bytesRead);
  });
});

describe('postern_groups_low_on_sms_credits', () => {
  it('counts the groups that allow SMS logins with fewer credits than the warning line', async () => {
    setLowCreditSource(() => countGroupsLowOnCredits(live.ctx.db, 10));
    const base = await series('postern_groups_low_on_sms_credits');
    const paying = await createGroup(live.ctx, { name: 'Low Ltd', kind: 'business' });
    await createGroup(live.ctx, { name: 'No SMS Ltd', kind: 'business' }); // SMS not allowed: not counted
    await setGroupAllowSms(live.ctx, { groupId: paying.id, allowSms: true });
    expect(await series('postern_groups_low_on_sms_credits')).toBe(base + 1); // no credit account yet: 0 credits
    await grantCredits(live.ctx, { owner: { groupId: paying.id }, credits: 9 });
    expect(await series('postern_groups_low_on_sms_credits')).toBe(base + 1);
    await grantCredits(live.ctx, { owner: { groupId: paying.id }, credits: 1 });
    expect(await series('postern_groups_low_on_sms_credits')).toBe(base);
  });

  it('a scrape while the count fails still answers, with the last value', async () => {
    setLowCreditSource(async () => 3);
    expect(await series('postern_groups_low_on_sms_credits')).toBe(3);
    setLowCreditSource(() => Promise.reject(new Error('database down')));
    expect(await series('postern_groups_low_on_sms_credits')).toBe(3);
    expect(await metricsRegistry.metrics()).toContain('postern_logins_total');
  });
});
