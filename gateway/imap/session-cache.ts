/**
 * Store sessions parked after a client logs out, for the same user's next login from the same address
 * (what imapproxy does for webmail). Mail clients and phones reconnect all the time; on a store that
 * starts a process per session (Dovecot), the store's login is most of what a reconnect costs. A
 * parked session turns the next login into the accounts-core check alone.
 *
 * What makes reuse safe:
 * - A session is handed out only after the accounts core accepted the new login, and only for the same
 *   store identity (mailbox, master user, restricted or not) and the same client address (the store
 *   logged that address at login, from our ID).
 * - Only sessions in a state any new session could be in are parked: no command in flight, nothing
 *   unread, no mailbox selected (the relay sends UNSELECT first, never CLOSE: nothing is expunged), and
 *   no command ever sent that leaves state behind (session-effects.ts: ENABLE, CONDSTORE/QRESYNC turned
 *   on implicitly by a MODSEQ item or key, a CHANGEDSINCE/UNCHANGEDSINCE modifier or a select parameter,
 *   a saved search; none can be turned off again).
 * - A parked session that hears anything from the store, or is parked longer than the reuse window,
 *   is logged out; at most MAX_PARKED_SESSIONS are kept, one per key, oldest dropped first.
 * - A parked session follows the login that opened it (issue #11): while parked it is in the live-session
 *   registry with that login's facts, so revoking the login, disabling the user or changing the password
 *   logs it out (NOTIFY, the check at registration, the periodic re-check) instead of handing it to the
 *   next login. The login is noted on the store socket when the session begins (ownedBy).
 */
import type net from 'node:net';
import type { LiveSessionRegistry } from '../../src/sessions/registry.js';
import type { LiveHandle, LiveSessionInfo } from '../../src/sessions/types.js';
import { destroyLater } from './destroy-later.js';
import { MAX_PARKED_SESSIONS, PARK_UNSELECT_TIMEOUT_MS } from './limits.js';
import { readerChanging, readsByCopy } from './read-buffers.js';
import { LoginLineReader, type UpstreamIdentity, type UpstreamSession, type UpstreamTarget } from './upstream.js';

export { MAX_PARKED_SESSIONS };

interface Parked {
  socket: net.Socket;
  capabilities: string[];
  timer: NodeJS.Timeout;
  onData: () => void;
  onGone: () => void;
  live: LiveHandle | null;
}

/** The login a store session currently serves, noted by the gateway when a session begins on it. */
interface Owner {
  registry: LiveSessionRegistry;
  info: LiveSessionInfo;
}
const owners = new WeakMap<net.Socket, Owner>();

/**
 * Notes which login the store session on `socket` now serves (replacing a previous login's note when a
 * parked session is handed over), so that, parked, it ends with that login.
 */
export function ownedBy(socket: net.Socket, registry: LiveSessionRegistry, info: LiveSessionInfo): void {
  owners.set(socket, { registry, info });
}

/** Which sessions may be handed to which logins; see the file comment. */
export function sessionKey(target: UpstreamTarget, identity: UpstreamIdentity, restricted: boolean, clientIp: string): string {
  return JSON.stringify([target.host, target.port, target.tls, identity.authcid, identity.authzid, restricted, clientIp]);
}

export class UpstreamSessionCache {
  private readonly parked = new Map<string, Parked>();
  /** Sessions on their way to being parked (UNSELECT in flight), so a quick reconnect waits for them. */
  private readonly arriving = new Map<string, Promise<void>>();

  constructor(
    /** How long a session waits for its next login. */
    private readonly reuseMs: number,
    private readonly maxSessions = MAX_PARKED_SESSIONS,
  ) {}

  /** The parked session for this key, taken out of the cache; null when there is none. */
  take(key: string): UpstreamSession | null {
    const entry = this.unpark(key);
    return entry ? { socket: entry.socket, capabilities: entry.capabilities, leftover: Buffer.alloc(0) } : null;
  }

  /**
   * take(), once a session still leaving its mailbox for this key is parked or dropped: a client that
   * reconnects right after LOGOUT gets the session its last one left, not a second store login.
   */
  async takeSettled(key: string): Promise<UpstreamSession | null> {
    await this.arriving.get(key);
    return this.take(key);
  }

  /** Registers a session that will be parked (or dropped) when `settled` resolves. */
  parkWhen(key: string, settled: Promise<void>): void {
    const done = settled.finally(() => {
      if (this.arriving.get(key) === done) this.arriving.delete(key);
    });
    this.arriving.set(key, done);
  }

  /** Keeps a logged-in, quiet, unselected session for the next login with this key. */
  park(key: string, socket: net.Socket, capabilities: string[]): void {
    const previous = this.unpark(key);
    if (previous) logOutStore(previous.socket);
    if (this.parked.size >= this.maxSessions) {
      const oldest = this.parked.keys().next().value!;
      logOutStore(this.unpark(oldest)!.socket);
    }
    // Unclaimed in time, or the store said something (meant for no one: the session is no longer known
    // to be quiet): logged out. unpark() removes these listeners, so each runs only while parked.
    const onData = () => logOutStore(this.unpark(key)!.socket);
    const onGone = () => {
      this.unpark(key);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onGone);
    socket.on('close', onGone);
    readsByCopy(socket); // parked: nothing is kept
    const timer = setTimeout(onData, this.reuseMs).unref();
    const entry: Parked = { socket, capabilities, timer, onData, onGone, live: null };
    this.parked.set(key, entry);
    const owner = owners.get(socket);
    if (owner) {
      // Ended with its login: logged out, never handed over (only while it is still this entry).
      entry.live = owner.registry.register(
        { ...owner.info, client: `${owner.info.client ?? 'mail client'} (store session parked for reuse)`, startedAt: new Date() },
        () => {
          if (this.parked.get(key) !== entry) return;
          entry.live = null;
          logOutStore(this.unpark(key)!.socket);
        },
      );
    }
  }

  /** Logs every parked session out (the gateway is closing). */
  close(): void {
    for (const key of [...this.parked.keys()]) logOutStore(this.unpark(key)!.socket);
  }

  private unpark(key: string): Parked | null {
    const entry = this.parked.get(key);
    if (!entry) return null;
    this.parked.delete(key);
    entry.live?.unregister();
    entry.live = null;
    clearTimeout(entry.timer);
    entry.socket.off('data', entry.onData);
    entry.socket.off('error', entry.onGone);
    entry.socket.off('close', entry.onGone);
    readerChanging(entry.socket);
    return entry;
  }
}

/**
 * Ends a store session politely: the store reads LOGOUT and logs a normal logout; whatever it answers
 * is read and dropped, and a store that does not close is cut after CLOSE_FLUSH_TIMEOUT_MS.
 */
export function logOutStore(socket: net.Socket, tag = 'P9'): void {
  if (socket.destroyed) return;
  socket.on('data', () => undefined);
  socket.on('error', () => socket.destroy());
  readsByCopy(socket); // read and dropped
  socket.write(`${tag} LOGOUT\r\n`);
  destroyLater(socket);
}


/**
 * Leaves the selected mailbox (UNSELECT: RFC 3691, nothing expunged), then parks the session. Any
 * doubt — a refusal, a literal, bytes after the answer, no answer in time — and it is logged out.
 */
export function unselectThenPark(cache: UpstreamSessionCache, key: string, socket: net.Socket, capabilities: string[]): void {
  cache.parkWhen(key, unselect(cache, key, socket, capabilities));
}

async function unselect(cache: UpstreamSessionCache, key: string, socket: net.Socket, capabilities: string[]): Promise<void> {
  const lines = new LoginLineReader(socket);
  const timer = setTimeout(() => socket.destroy(), PARK_UNSELECT_TIMEOUT_MS).unref();
  try {
    socket.write('P8 UNSELECT\r\n');
    const untagged: string[] = [];
    const done = await lines.untilTagged('P8', untagged);
    const leftover = lines.detach();
    const clean = /^P8 OK/i.test(done) && leftover.length === 0 && !untagged.some((l) => /\{\d+\+?\}$/.test(l));
    if (clean) cache.park(key, socket, capabilities);
    else logOutStore(socket);
  } catch {
    socket.destroy();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The store session of a client that logged out: parked for the same user's next login when `park` is
 * given (after UNSELECT if a mailbox is selected), else logged out politely under the client's tag.
 */
export function handOffAtLogout(
  socket: net.Socket,
  park: { cache: UpstreamSessionCache; key: string; capabilities: string[]; selected: boolean } | null,
  tag: string,
): void {
  if (!park) logOutStore(socket, tag);
  else if (park.selected) unselectThenPark(park.cache, park.key, socket, park.capabilities);
  else park.cache.park(park.key, socket, park.capabilities);
}
