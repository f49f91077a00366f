/**
 * What a restricted session adds to the mailbox (APPEND messages, COPY), charged to its byte budget
 * (src/restricted/budget.ts) before the store sees a byte of it, and the refusals it earns, counted
 * into a few audit rows (refusal-audit.ts). One per session; full sessions never call the budget.
 *
 * The budget lives in the database as well as in memory, so every charge waits for it: the connection
 * reads no further command meanwhile (conn.wait), and the answer comes back through `go` or a refusal.
 */
import type { AuthSuccess } from '../../src/auth/types.js';
import { recordRestrictedRefusal } from '../../src/metrics/record.js';
import { type BudgetOwner, SessionBudget, refundAddedBytes, reserveAddedBytes } from '../../src/restricted/budget.js';
import type { Command } from './command-ast.js';
import type { ImapConnection } from './connection.js';
import { type Refusal, asRestrictedAnswer } from './refusal.js';
import { RefusalAudit } from './refusal-audit.js';

/** The database could not say: nothing is added, and the client may try again. */
const UNAVAILABLE: Refusal = { status: 'NO', code: 'UNAVAILABLE', text: 'Try again later' };

const nothing = (): void => undefined;

export class RestrictedAdditions {
  private readonly owner: BudgetOwner;
  private readonly budget: SessionBudget;
  private readonly refusals: RefusalAudit;

  constructor(
    private readonly conn: ImapConnection,
    auth: AuthSuccess,
    /** True once the session has ended: a late database answer is dropped. */
    private readonly ended: () => boolean,
  ) {
    this.owner = { userId: auth.userId, loginId: auth.loginId };
    const { config } = conn.ctx;
    this.budget = new SessionBudget({ sessionBytes: config.RESTRICTED_SESSION_BYTES, dailyBytes: config.RESTRICTED_DAILY_BYTES });
    this.refusals = new RefusalAudit(conn.ctx, { userId: auth.userId, loginId: auth.loginId, ip: conn.remoteIp });
  }

  /** A restricted-policy refusal was answered (client-step.ts): counted for the metrics and the audit. */
  noteRefusal(reason: string, command: string): void {
    recordRestrictedRefusal('imap', reason);
    this.refusals.record(reason, command);
  }

  /** Resolves once the session's refusal counts are in the audit log. */
  flush(): Promise<void> {
    return this.refusals.flush();
  }

  /**
   * Runs `go` once `bytes` are granted; otherwise `refused` (the command's literal is turned down, say),
   * then the refusal is answered, as the policy's are, and the next command read.
   */
  charge(command: Command, bytes: number, go: () => void, refused: () => void = nothing): void {
    const conn = this.conn;
    conn.wait();
    reserveAddedBytes(conn.ctx.db, this.owner, this.budget, bytes).then(
      (refusal) => {
        if (this.ended()) return;
        if (!refusal) return go();
        refused();
        this.refusals.record(refusal.reason, command.name);
        conn.refuse(command.tag, asRestrictedAnswer({ status: 'NO', ...refusal }));
        conn.proceed();
      },
      (error: unknown) => {
        conn.ctx.log.error({ err: error }, 'restricted budget check failed');
        if (this.ended()) return;
        refused();
        conn.refuse(command.tag, UNAVAILABLE);
        conn.proceed();
      },
    );
  }

  /**
   * A further MULTIAPPEND message: `go` once granted, else `cancel` with the answer for the whole command
   * (which the caller gives only once the store has dropped it, so it is not answered here).
   */
  chargeNext(command: Command, bytes: number, go: () => void, cancel: (refusal: Refusal) => void): void {
    reserveAddedBytes(this.conn.ctx.db, this.owner, this.budget, bytes).then(
      (refusal) => {
        if (this.ended()) return;
        if (!refusal) return go();
        this.refusals.record(refusal.reason, command.name);
        cancel(asRestrictedAnswer({ status: 'NO', ...refusal }));
      },
      (error: unknown) => {
        this.conn.ctx.log.error({ err: error }, 'restricted budget check failed');
        if (!this.ended()) cancel(UNAVAILABLE);
      },
    );
  }

  /**
   * Gives back `bytes` of an addition the store provably did not keep (a cancelled MULTIAPPEND), then
   * `then`. A failed refund leaves them charged, which errs on the safe side.
   */
  refund(bytes: number, then: () => void): void {
    const { ctx } = this.conn;
    refundAddedBytes(ctx.db, this.owner, this.budget, bytes)
      .catch((error: unknown) => ctx.log.error({ err: error }, 'restricted budget refund failed'))
      .then(() => {
        if (!this.ended()) then();
      });
  }
}
