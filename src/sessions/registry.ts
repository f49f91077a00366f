/**
 * The live-session registry of one instance: every open IMAP/SMTP (and webmail) session, in memory, with
 * the callback that ends it. Revoking a login, disabling a user or changing a password ends the sessions
 * it authorised on every instance (end-sessions.ts sends a NOTIFY on CHANNEL, each registry ends its own
 * matching sessions on receipt: PostgreSQL delivers within milliseconds, PGlite in-process).
 *
 * Three nets, because a session that outlives its login is the attack this exists to stop:
 *  1. the NOTIFY, heard by every instance listening;
 *  2. a database check when a session registers: a change that happened while its login was being
 *     verified (after authStartedAt) ends it at once, though its NOTIFY came before it was registered;
 *  3. a re-check of every local session every RECHECK_INTERVAL_MS and whenever the LISTEN connection comes
 *     back (`Database.onListenReconnect`): a NOTIFY sent while it was down is not lost.
 *
 * The rows other instances (and Options → Security) see are written in batches about once a second with a
 * heartbeat (session-rows.ts); the registry starts its timers and its LISTEN with the first session, so a
 * CLI process, which only sends NOTIFYs, starts nothing.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { flushRows, removeInstance, type PendingRows } from './session-rows.js';
import type { LiveHandle, LiveSessionInfo, SessionSelector } from './types.js';
import { END_REASONS, findEndedSessions } from './validity.js';

/** The NOTIFY channel end-sessions.ts sends on. */
export const END_SESSIONS_CHANNEL = 'postern_end_sessions';
export const FLUSH_INTERVAL_MS = 1_000;
export const RECHECK_INTERVAL_MS = 30_000;
/** A touch is written only when the stored "last active" is older than this: reading mail costs no write per command. */
const TOUCH_WRITE_MS = 10_000;
/** setTimeout's largest delay; a 1-hour window is far below it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a NOTIFY on END_SESSIONS_CHANNEL carries (no secrets: ids and a sentence). */
export interface EndMessage {
  origin: string;
  selector: SessionSelector;
  reason: string;
}

interface Entry {
  id: string;
  info: LiveSessionInfo;
  end: (reason: string) => void;
  lastActiveAt: Date;
  writtenActiveAt: number | null;
  windowTimer: NodeJS.Timeout | null;
}

const running = new Set<LiveSessionRegistry>();

/**
 * Re-validates every live session of every registry in this process against the database. Ops calls it
 * when the LISTEN connection was re-established. Resolves to the number of sessions ended.
 */
export async function recheckAll(): Promise<number> {
  let n = 0;
  for (const registry of [...running]) n += await registry.recheck();
  return n;
}

export class LiveSessionRegistry {
  /** This instance in live_instances / live_sessions. */
  readonly instanceId = crypto.randomBytes(12).toString('base64url');
  private readonly sessions = new Map<string, Entry>();
  private readonly pending: PendingRows = { dirty: new Set(), ended: new Set(), instanceKnown: false };
  private started: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | null = null;
  private stopWatchingListen: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly options: { flushIntervalMs?: number; recheckIntervalMs?: number } = {},
  ) {}

  /** Adds a session; `end(reason)` is called at most once, when a change ends it (never after unregister). */
  register(info: LiveSessionInfo, end: (reason: string) => void): LiveHandle {
    const id = crypto.randomBytes(12).toString('base64url');
    const entry: Entry = { id, info, end, lastActiveAt: info.startedAt, writtenActiveAt: null, windowTimer: null };
    this.sessions.set(id, entry);
    this.pending.dirty.add(id);
    if (info.validUntil) {
      const ms = Math.min(Math.max(info.validUntil.getTime() - Date.now(), 0), MAX_TIMER_MS);
      entry.windowTimer = setTimeout(() => this.endEntry(entry, END_REASONS.window), ms).unref();
    }
    const checked = this.start()
      .then(() => this.checkAgainstDatabase([entry]))
      .catch((err: unknown) => {
        // The login itself was just decided by the database; the re-check covers this session later.
        this.log.warn({ err, code: 'LIVE_SESSION_CHECK_FAILED' }, 'live session check at registration failed');
      })
      .then(() => this.sessions.get(id) === entry);
    return {
      id,
      checked,
      touch: () => this.touch(entry),
      nameClient: (client) => this.nameClient(entry, client),
      unregister: () => this.forget(entry),
    };
  }

  /** Ends this instance's sessions the selector matches; returns how many. */
  endMatching(selector: SessionSelector, reason: string): number {
    let n = 0;
    for (const entry of [...this.sessions.values()]) {
      if (!matches(entry, selector)) continue;
      this.endEntry(entry, reason);
      n++;
    }
    return n;
  }

  /** Re-validates every local session against the database; returns how many ended. */
  async recheck(): Promise<number> {
    return this.checkAgainstDatabase([...this.sessions.values()]);
  }

  /** This instance's sessions of a user, as they are now (ahead of the batched rows). */
  localSessionsOf(userId: number): Array<{ id: string; info: LiveSessionInfo; lastActiveAt: Date }> {
    return [...this.sessions.values()].filter((e) => e.info.userId === userId).map((e) => ({ id: e.id, info: e.info, lastActiveAt: e.lastActiveAt }));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Live sessions by protocol and login kind (restricted ones counted apart), for the metrics gauge. */
  counts(): Array<{ protocol: string; kind: string; count: number }> {
    const byKey = new Map<string, { protocol: string; kind: string; count: number }>();
    for (const { info } of this.sessions.values()) {
      const kind = info.restricted ? `${info.loginKind}-restricted` : info.loginKind;
      const key = `${info.protocol} ${kind}`;
      const row = byKey.get(key) ?? { protocol: info.protocol, kind, count: 0 };
      row.count++;
      byKey.set(key, row);
    }
    return [...byKey.values()];
  }

  /** Writes pending rows now (tests, shutdown); the timer does this about once a second. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // One flush at a time, so a session's delete can never overtake its insert.
    this.flushing ??= flushRows(this.database.db, this.instanceId, this.pending, this.sessions)
      .catch((err: unknown) => this.log.warn({ err, code: 'LIVE_SESSION_FLUSH_FAILED' }, 'writing live sessions failed'))
      .finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops the timers and the LISTEN and removes this instance's rows. The fronts close their own connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushing;
    this.closed = true;
    running.delete(this);
    for (const t of this.timers) clearInterval(t);
    this.stopWatchingListen?.();
    for (const e of this.sessions.values()) if (e.windowTimer) clearTimeout(e.windowTimer);
    this.sessions.clear();
    await this.unlisten?.().catch(() => undefined);
    if (this.started) await removeInstance(this.database.db, this.instanceId).catch(() => undefined);
  }

  /** A message from end-sessions.ts (this or another instance). */
  onEndMessage(message: EndMessage): void {
    if (message.origin === this.instanceId) return;
    this.endMatching(message.selector, message.reason);
  }

  private start(): Promise<void> {
    if (this.started) return this.started;
    running.add(this);
    const flushMs = this.options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    const recheckMs = this.options.recheckIntervalMs ?? RECHECK_INTERVAL_MS;
    this.timers.push(setInterval(() => void this.flush(), flushMs).unref());
    this.timers.push(
      setInterval(() => {
        this.recheck().catch((err: unknown) => this.log.warn({ err, code: 'LIVE_SESSION_RECHECK_FAILED' }, 'live session re-check failed'));
      }, recheckMs).unref(),
    );
    // A NOTIFY sent while the LISTEN connection was away is lost: re-check everything when it returns.
    const stopWatching = this.database.onListenReconnect(() => {
      this.recheck().catch((err: unknown) => this.log.warn({ err, code: 'LIVE_SESSION_RECHECK_FAILED' }, 'live session re-check failed'));
    });
    this.stopWatchingListen = stopWatching;
    this.started = this.database
      .listen(END_SESSIONS_CHANNEL, (payload) => {
        const message = parseEndMessage(payload);
        if (message) this.onEndMessage(message);
      })
      .then((unlisten) => {
        if (this.closed) return void unlisten();
        this.unlisten = unlisten;
      })
      .catch((err: unknown) => {
        // The re-check still ends what a missed NOTIFY would have, within RECHECK_INTERVAL_MS.
        this.log.error({ err, code: 'LIVE_SESSION_LISTEN_FAILED' }, 'cannot listen for ended sessions');
      });
    return this.started;
  }

  private async checkAgainstDatabase(entries: Entry[]): Promise<number> {
    const live = entries.filter((e) => this.sessions.get(e.id) === e);
    if (!live.length || this.closed) return 0;
    const ended = await findEndedSessions(this.database.db, live.map((e) => ({ id: e.id, ...e.info })));
    let n = 0;
    for (const { id, reason } of ended) {
      const entry = this.sessions.get(id);
      if (entry) {
        this.endEntry(entry, reason);
        n++;
      }
    }
    return n;
  }

  private touch(entry: Entry): void {
    if (this.sessions.get(entry.id) !== entry) return;
    const now = new Date();
    entry.lastActiveAt = now;
    if (entry.writtenActiveAt === null || now.getTime() - entry.writtenActiveAt >= TOUCH_WRITE_MS) this.pending.dirty.add(entry.id);
  }

  private nameClient(entry: Entry, client: string): void {
    if (this.sessions.get(entry.id) !== entry || entry.info.client === client) return;
    entry.info = { ...entry.info, client };
    this.pending.dirty.add(entry.id);
  }

  private forget(entry: Entry): boolean {
    if (this.sessions.get(entry.id) !== entry) return false;
    this.sessions.delete(entry.id);
    if (entry.windowTimer) clearTimeout(entry.windowTimer);
    this.pending.dirty.delete(entry.id);
    this.pending.ended.add(entry.id);
    return true;
  }

  private endEntry(entry: Entry, reason: string): void {
    if (!this.forget(entry)) return;
    this.log.info({ code: 'LIVE_SESSION_ENDED', userId: entry.info.userId, loginId: entry.info.loginId, protocol: entry.info.protocol, reason }, 'live session ended');
    try {
      entry.end(reason);
    } catch (err) {
      this.log.error({ err, code: 'LIVE_SESSION_END_FAILED' }, 'ending a live session failed');
    }
  }
}

function matches(entry: Entry, s: SessionSelector): boolean {
  const { info } = entry;
  if (info.userId !== s.userId || entry.id === s.except) return false;
  if (s.sessionId !== undefined && entry.id !== s.sessionId) return false;
  if (s.changedAt && info.passwordChangedAt?.getTime() === s.changedAt.getTime()) return false;
  return s.loginId === undefined || info.loginId === s.loginId;
}

/** A NOTIFY payload, or null when it is not one of ours (the channel is shared by every instance). */
export function parseEndMessage(payload: string): EndMessage | null {
  try {
    const m = JSON.parse(payload) as EndMessage;
    const s = m?.selector;
    if (typeof m.origin !== 'string' || typeof m.reason !== 'string' || !Number.isInteger(s?.userId)) return null;
    if (s.loginId !== undefined && s.loginId !== null && !Number.isInteger(s.loginId)) return null;
    if (s.except !== undefined && typeof s.except !== 'string') return null;
    if (s.sessionId !== undefined && typeof s.sessionId !== 'string') return null;
    const changedAt = s.changedAt === undefined ? undefined : new Date(s.changedAt as unknown as string);
    if (changedAt && Number.isNaN(changedAt.getTime())) return null;
    return { origin: m.origin, reason: m.reason.slice(0, 200), selector: { userId: s.userId, loginId: s.loginId, except: s.except, sessionId: s.sessionId, changedAt } };
  } catch {
    return null;
  }
}
