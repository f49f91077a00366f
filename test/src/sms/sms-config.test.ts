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

describe('SMS and credit settings', () => {
  it('defaults to a 60 s cool-down, 5 per user per hour, 200 per group per day, every country, packs of 50/200/1000', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ SMS_COOLDOWN_SECONDS: 60, SMS_MAX_PER_USER_PER_HOUR: 5, SMS_MAX_PER_GROUP_PER_DAY: 200 });
    expect(c.SMS_ALLOWED_COUNTRIES).toBeUndefined();
    expect(c.SMS_CREDIT_PACKS.map((p) => p.credits)).toEqual([50, 200, 1000]);
    expect(c.SMS_LOGIN_TEMPLATE).toBe('Your Postern login code is {code}. It expires in 10 minutes.');
  });

  it('reads country calling codes and packs from the environment', () => {
    const c = loadConfig({ ...base, SMS_ALLOWED_COUNTRIES: '44, +1,49', SMS_CREDIT_PACKS: '10:1.50,100:12' });
    expect(c.SMS_ALLOWED_COUNTRIES).toEqual(['44', '1', '49']);
    expect(c.SMS_CREDIT_PACKS).toEqual([
      { credits: 10, amountCents: 150 },
      { credits: 100, amountCents: 1200 },
    ]);
  });

  it('stops at boot with one line naming a bad setting', () => {
    expect(configError({ SMS_ALLOWED_COUNTRIES: 'UK' })).toMatch(/^invalid configuration: SMS_ALLOWED_COUNTRIES: .*"UK"/);
    expect(configError({ SMS_LOGIN_TEMPLATE: 'Your code is coming' })).toMatch(/SMS_LOGIN_TEMPLATE: must contain \{code\}/);
    expect(configError({ SMS_CREDIT_PACKS: '50 credits' })).toMatch(/SMS_CREDIT_PACKS/);
    expect(configError({ SMS_MAX_PER_USER_PER_HOUR: '0' })).toMatch(/SMS_MAX_PER_USER_PER_HOUR/);
  });

  it('refuses the console provider in production', () => {
    expect(configError({ NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(40), SMS_PROVIDER: 'console' })).toMatch(/SMS_PROVIDER: the console provider delivers nothing/);
  });
});
