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

  it('allows the console provider only when every listener is on loopback, or with ALLOW_CONSOLE_SMS', () => {
    for (const HOST of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(loadConfig({ ...base, HOST }).SMS_PROVIDER).toBe('console');
    for (const HOST of ['0.0.0.0', '::', '192.0.2.10', 'mail.example.org']) {
      const message = configError({ HOST });
      expect(message).toMatch(/^invalid configuration: SMS_PROVIDER: the console provider shows every code on \/demo\/phone/);
      expect(message.split('\n')).toHaveLength(1);
    }
    expect(loadConfig({ ...base, HOST: '0.0.0.0', ALLOW_CONSOLE_SMS: '1' }).ALLOW_CONSOLE_SMS).toBe(true);
    expect(configError({ HOST: '0.0.0.0', ALLOW_CONSOLE_SMS: 'maybe' })).toMatch(/ALLOW_CONSOLE_SMS/);
    expect(loadConfig({ ...base, HOST: '0.0.0.0', SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' }).SMS_PROVIDER).toBe('twilio');
  });
});
