import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableProcessMetrics } from '../../src/metrics/registry.js';
import { setLiveSessionsSource } from '../../src/metrics/record.js';
import { startMetricsServer } from '../../web/metrics-server.js';
import { addUser, createWebHarness, WebClient, type WebHarness } from './harness.js';

const TOKEN = 'metrics-token-'.padEnd(40, 'x');
const PASSWORD = 'metrics test password';
let h: WebHarness;
let plain: WebHarness;

beforeAll(async () => {
  h = await createWebHarness({ METRICS_TOKEN: TOKEN });
  plain = await createWebHarness();
  await addUser(h, 'metered', PASSWORD);
});
afterAll(async () => {
  setLiveSessionsSource(null);
  await h.close();
  await plain.close();
});

async function scrape(): Promise<string> {
  const res = await h.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of one series in Prometheus text (0 when absent). */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics', () => {
  it('on the web port, refuses a scrape without the bearer token, or with a wrong one', async () => {
    const none = await h.app.request('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('postern_');
    const wrong = await h.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}y` } });
    expect(wrong.status).toBe(401);
  });

  it('is not served on the web port at all without METRICS_TOKEN', async () => {
    const res = await plain.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('postern_logins_total');
  });

  it('counts logins by protocol, method and result, and web requests by area', async () => {
    const success = 'postern_logins_total{protocol="web",method="main",result="success"}';
    const failure = 'postern_logins_total{protocol="web",method="unknown",result="failed"}';
    const before = await scrape();
    await new WebClient(h).login('metered', PASSWORD);
    await new WebClient(h).post('/login', { username: 'metered', password: 'wrong password' });
    const after = await scrape();
    expect(valueOf(after, success) - valueOf(before, success)).toBe(1);
    expect(valueOf(after, failure) - valueOf(before, failure)).toBe(1);
    expect(valueOf(after, 'postern_web_request_duration_seconds_count{area="login",method="POST",status="3xx"}')).toBeGreaterThanOrEqual(1);
  });

  it('on METRICS_PORT, serves the registry on loopback with event-loop lag and the live-sessions gauge', async () => {
    enableProcessMetrics();
    setLiveSessionsSource(() => [{ protocol: 'imap', kind: 'app', count: 3 }]);
    const { server, port } = await startMetricsServer({ METRICS_HOST: '127.0.0.1', METRICS_TOKEN: undefined }, 0);
    try {
      expect((server.address() as { address: string }).address).toBe('127.0.0.1');
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^postern_nodejs_eventloop_lag_seconds \d/m);
      expect(valueOf(text, 'postern_live_sessions{protocol="imap",kind="app"}')).toBe(3);
      expect((await fetch(`http://127.0.0.1:${port}/login`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
