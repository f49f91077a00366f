import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

const base = { NODE_ENV: 'development', DATA_DIR: '/tmp/postern-config-test' };
const configError = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a configuration error');
};

describe('LOGIN_NOTICE_RETRY_DELAYS', () => {
  it('defaults to 1 min, 5 min, 30 min, 2 h, 6 h, 8 h, 8 h: the last try about a day after the use', () => {
    const delays = loadConfig(base).LOGIN_NOTICE_RETRY_DELAYS;
    expect(delays).toEqual([60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 28_800_000, 28_800_000]);
    const hours = delays.reduce((a, b) => a + b, 0) / 3_600_000;
    expect(hours).toBeGreaterThan(23);
    expect(hours).toBeLessThan(26);
  });

  it('reads delays with units, spaces allowed', () => {
    expect(loadConfig({ ...base, LOGIN_NOTICE_RETRY_DELAYS: '50ms, 2s,3m ,1h' }).LOGIN_NOTICE_RETRY_DELAYS).toEqual([50, 2000, 180_000, 3_600_000]);
  });

  it('refuses a delay without a unit, a zero delay or one over a day, naming the variable', () => {
    expect(configError({ LOGIN_NOTICE_RETRY_DELAYS: '60' })).toMatch(/^invalid configuration: LOGIN_NOTICE_RETRY_DELAYS: expected up to 20 delays like "1m,5m,30m,2h"/);
    expect(configError({ LOGIN_NOTICE_RETRY_DELAYS: '1m,0s' })).toMatch(/LOGIN_NOTICE_RETRY_DELAYS: each delay must be between 1ms and 24h/);
    expect(configError({ LOGIN_NOTICE_RETRY_DELAYS: '25h' })).toMatch(/LOGIN_NOTICE_RETRY_DELAYS: each delay must be between 1ms and 24h/);
  });
});
