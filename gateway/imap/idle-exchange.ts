/**
 * IDLE (RFC 2177) through the gateway, one per session (one command is in flight at a time, so there
 * is never more than one IDLE to follow).
 *
 * The client gets its `+` only once the store has sent one, and only then is its next line read as
 * the IDLE's end: a DONE sent earlier would be a command to the store. While idling the reader reads
 * exactly one line (command-reader.ts): anything but DONE still ends the IDLE upstream with DONE, so the
 * store never stays idling while the gateway reads commands again, and the client is answered BAD
 * instead of the store's OK. Some stores end an IDLE themselves with their tagged answer; the reader is
 * then told so, and a DONE the client sends late is dropped (store-ended-idle.test.ts).
 */
import type { ImapConnection } from './connection.js';

const DONE = Buffer.from('DONE\r\n');

export class IdleExchange {
  /** starting: IDLE sent, the store's `+` awaited; idling: both sides idle; done-sent: DONE went upstream. */
  private phase: 'off' | 'starting' | 'idling' | 'done-sent' = 'off';
  /** The client ended the IDLE with something other than DONE. */
  private invalidDone = false;

  constructor(
    private readonly conn: ImapConnection,
    private readonly writeUpstream: (data: Buffer) => void,
  ) {}

  /** IDLE went upstream whole; the store's `+` is awaited. */
  begin(): void {
    this.phase = 'starting';
  }

  /** IDLE was sent and the store has not said `+` yet: a LOGOUT now would be read as the IDLE's end. */
  get starting(): boolean {
    return this.phase === 'starting';
  }

  /** Both sides are idle: the session may be interrupted (drain) with DONE, then LOGOUT. */
  get idling(): boolean {
    return this.phase === 'idling';
  }

  /** The store's `+`, already relayed to the client: its next line is the IDLE's end. */
  accepted(): void {
    this.phase = 'idling';
    this.conn.enterIdle();
    this.conn.proceed();
  }

  /** The client's line during IDLE (RFC 2177 §3): DONE goes upstream either way. */
  clientDone(valid: boolean): void {
    if (this.phase !== 'idling') return; // the store had already ended the IDLE
    this.phase = 'done-sent';
    this.invalidDone = !valid;
    this.conn.wait();
    this.writeUpstream(DONE);
  }

  /**
   * The store's tagged answer ended the command in flight. True when it was an IDLE the client ended
   * with something other than DONE: the client is answered BAD instead of the store's OK.
   */
  end(): boolean {
    if (this.phase === 'idling') this.conn.endIdle(); // the store ended the IDLE before any DONE
    const invalid = this.invalidDone;
    this.phase = 'off';
    this.invalidDone = false;
    return invalid;
  }
}
