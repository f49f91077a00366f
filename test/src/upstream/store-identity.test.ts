import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { storeIdentity } from '../../../src/upstream/store-identity.js';

const base = {
  DATA_DIR: '/tmp/postern-store-identity',
  UPSTREAM_IMAP: 'store.example.test:993',
  UPSTREAM_IMAP_TLS: 'true',
  UPSTREAM_MASTER_USER: 'gateway',
  UPSTREAM_MASTER_PASSWORD: 'full-master-pw',
};

describe('storeIdentity', () => {
  it('acts for the mailbox as the full master in an unrestricted session', () => {
    const id = storeIdentity(loadConfig({ ...base, UPSTREAM_RESTRICTED_MASTER_USER: 'limited', UPSTREAM_RESTRICTED_MASTER_PASSWORD: 'r-pw' }), {
      mailbox: 'alice',
      restricted: false,
    });
    expect(id).toEqual({ host: 'store.example.test', port: 993, tls: true, authcid: 'gateway', password: 'full-master-pw', authzid: 'alice' });
  });

  it('uses the restricted master for a restricted session when one is configured', () => {
    const id = storeIdentity(loadConfig({ ...base, UPSTREAM_RESTRICTED_MASTER_USER: 'limited', UPSTREAM_RESTRICTED_MASTER_PASSWORD: 'r-pw' }), {
      mailbox: 'alice',
      restricted: true,
    });
    expect(id).toMatchObject({ authcid: 'limited', password: 'r-pw', authzid: 'alice' });
  });

  it('falls back to the full master (the gateway policy alone guards) without a restricted master', () => {
    expect(storeIdentity(loadConfig(base), { mailbox: 'alice', restricted: true })).toMatchObject({ authcid: 'gateway' });
  });

  it('is null when no store is configured', () => {
    expect(storeIdentity(loadConfig({ DATA_DIR: '/tmp/x' }), { mailbox: 'alice', restricted: false })).toBeNull();
  });
});
