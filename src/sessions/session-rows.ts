/**
 * The registry's rows in PostgreSQL: each instance upserts its new and touched sessions and deletes its
 * ended ones in one batch about once a second, and refreshes its heartbeat with it. An instance whose
 * heartbeat is older than STALE_AFTER_SECONDS has crashed or hangs: its rows are not listed, and after
 * PRUNE_AFTER_SECONDS any instance deletes them (rows cascade with their instance). An instance that was
 * pruned while it was only paused notices its missing row and writes all its sessions again.
 */
import { and, eq, gt, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { liveInstances, liveSessions } from '../db/schema.js';
import type { LiveSessionInfo, LiveSessionSummary } from './types.js';

export const STALE_AFTER_SECONDS = 15;
export const PRUNE_AFTER_SECONDS = 120;
const PRUNE_EVERY_FLUSHES = 30;
const CHUNK = 500;

/** What the registry hands each flush. */
export interface PendingRows {
  /** New or touched sessions to write. */
  dirty: Set<string>;
  /** Ended sessions to delete. */
  ended: Set<string>;
  instanceKnown: boolean;
  flushes?: number;
}

interface LocalSession {
  id: string;
  info: LiveSessionInfo;
  lastActiveAt: Date;
  writtenActiveAt: number | null;
}

/** One batch: heartbeat, deletes, upserts, and now and then the pruning of dead instances. */
export async function flushRows(db: Db, instanceId: string, pending: PendingRows, sessions: ReadonlyMap<string, LocalSession>): Promise<void> {
  const beat = await db.update(liveInstances).set({ heartbeatAt: sql`now()` }).where(eq(liveInstances.id, instanceId)).returning({ id: liveInstances.id });
  if (!beat.length) {
    await db.insert(liveInstances).values({ id: instanceId }).onConflictDoNothing();
    // First flush, or pruned while paused: every session is written (again).
    if (pending.instanceKnown) for (const id of sessions.keys()) pending.dirty.add(id);
    pending.instanceKnown = true;
  }
  const ended = [...pending.ended];
  pending.ended.clear();
  try {
    for (let i = 0; i < ended.length; i += CHUNK) await db.delete(liveSessions).where(inArray(liveSessions.id, ended.slice(i, i + CHUNK)));
  } catch (e) {
    for (const id of ended) pending.ended.add(id);
    throw e;
  }
  const dirty = [...pending.dirty].map((id) => sessions.get(id)).filter((s): s is LocalSession => s !== undefined);
  pending.dirty.clear();
  try {
    for (let i = 0; i < dirty.length; i += CHUNK) {
      const batch = dirty.slice(i, i + CHUNK);
      await db
        .insert(liveSessions)
        .values(batch.map((s) => rowOf(instanceId, s)))
        .onConflictDoUpdate({ target: liveSessions.id, set: { lastActiveAt: sql`excluded.last_active_at`, clientName: sql`excluded.client_name` } });
      for (const s of batch) s.writtenActiveAt = s.lastActiveAt.getTime();
    }
  } catch (e) {
    for (const s of dirty) if (sessions.has(s.id)) pending.dirty.add(s.id);
    throw e;
  }
  pending.flushes = (pending.flushes ?? 0) + 1;
  if (pending.flushes % PRUNE_EVERY_FLUSHES === 1) await pruneDeadInstances(db, instanceId);
}

function rowOf(instanceId: string, s: LocalSession): typeof liveSessions.$inferInsert {
  const { info } = s;
  return {
    id: s.id,
    instanceId,
    userId: info.userId,
    loginId: info.loginId,
    loginKind: info.loginKind,
    restricted: info.restricted,
    protocol: info.protocol,
    clientIp: info.clientIp.slice(0, 64) || null,
    clientName: info.client ? info.client.replace(/\p{Cc}/gu, '').slice(0, 100) : null,
    startedAt: info.startedAt,
    lastActiveAt: s.lastActiveAt,
  };
}

/** Deletes instances (and so their sessions) silent for longer than PRUNE_AFTER_SECONDS. */
export async function pruneDeadInstances(db: Db, exceptId: string): Promise<void> {
  await db
    .delete(liveInstances)
    .where(and(ne(liveInstances.id, exceptId), lt(liveInstances.heartbeatAt, sql`now() - make_interval(secs => ${PRUNE_AFTER_SECONDS})`)));
}

export async function removeInstance(db: Db, instanceId: string): Promise<void> {
  await db.delete(liveInstances).where(eq(liveInstances.id, instanceId));
}

/** The user's sessions on every instance whose heartbeat is fresh, newest first. */
export async function listSessionRows(db: Db, userId: number): Promise<LiveSessionSummary[]> {
  const rows = await db
    .select({ s: liveSessions })
    .from(liveSessions)
    .innerJoin(liveInstances, eq(liveInstances.id, liveSessions.instanceId))
    .where(and(eq(liveSessions.userId, userId), gt(liveInstances.heartbeatAt, sql`now() - make_interval(secs => ${STALE_AFTER_SECONDS})`)));
  return rows.map(({ s }) => ({
    id: s.id,
    protocol: s.protocol,
    loginId: s.loginId,
    loginKind: s.loginKind,
    restricted: s.restricted,
    clientIp: s.clientIp,
    clientName: s.clientName,
    startedAt: s.startedAt,
    lastActiveAt: s.lastActiveAt,
  }));
}
