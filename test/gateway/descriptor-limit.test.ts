import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_RESERVE, fitCaps, raiseDescriptorLimit, readDescriptorLimit } from '../../gateway/descriptor-limit.js';

const caps = { IMAP_MAX_CONNECTIONS: 2000, SMTP_MAX_CONNECTIONS: 500, WEB_MAX_CONNECTIONS: 1000 };

describe('connection caps and the descriptor limit', () => {
  it('keeps caps that fit, and scales all down alike when they do not', () => {
    expect(fitCaps(caps, 20_000)).toEqual({ config: caps, lowered: false });
    const { config, lowered } = fitCaps(caps, 1024);
    expect(lowered).toBe(true);
    const used = 2 * config.IMAP_MAX_CONNECTIONS + 2 * config.SMTP_MAX_CONNECTIONS + config.WEB_MAX_CONNECTIONS;
    expect(used).toBeLessThanOrEqual(1024 - DESCRIPTOR_RESERVE);
    expect(config.IMAP_MAX_CONNECTIONS).toBeGreaterThan(config.SMTP_MAX_CONNECTIONS);
  });

  it('reads the soft limit in force and never lowers it', () => {
    const before = readDescriptorLimit();
    expect(before).not.toBeNull();
    expect(before!.soft).toBeGreaterThan(0);
    const after = raiseDescriptorLimit();
    expect(after!.soft).toBeGreaterThanOrEqual(before!.soft);
    expect(after!.soft).toBeLessThanOrEqual(after!.hard);
  });
});
