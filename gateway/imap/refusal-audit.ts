/**
 * Audit rows for a session's refused commands, aggregated: one `imap.command-blocked` row per reason
 * with a count and the command names seen, written when the session ends and at most once per
 * FLUSH_INTERVAL_MS while it lasts — never one row per command, so a refusal flood cannot flood the
 * audit log. Only command names are kept: arguments may carry anything the client typed.
 */
import { audit } from '../../src/audit.js';
import type { AppContext } from '../../src/context.js';
import { REFUSAL_AUDIT_FLUSH_MS } from './limits.js';

interface Tally {
  count: number;
  commands: Set<string>;
}

export interface RefusalAuditSubject {
  userId: number;
  loginId: number | null;
  ip: string;
}

export class RefusalAudit {
  private readonly tallies = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: AppContext,
    private readonly subject: RefusalAuditSubject,
    private readonly flushMs = REFUSAL_AUDIT_FLUSH_MS,
  ) {}

  record(reason: string, command: string): void {
    const tally = this.tallies.get(reason) ?? { count: 0, commands: new Set<string>() };
    tally.count++;
    tally.commands.add(command);
    this.tallies.set(reason, tally);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes what has been counted since the last flush; resolves when the rows are in. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = [...this.tallies].map(([reason, t]) => ({ reason, count: t.count, commands: [...t.commands].sort() }));
    this.tallies.clear();
    const { userId, loginId, ip } = this.subject;
    this.pending = this.pending.then(async () => {
      for (const row of rows) {
        await audit(this.ctx.db, { event: 'imap.command-blocked', userId, ip, service: 'imap', details: { ...row, loginId } })
          .catch((error: unknown) => this.ctx.log.error({ err: error }, 'audit of blocked IMAP commands failed'));
      }
    });
    return this.pending;
  }
}
