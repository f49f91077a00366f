/**
 * Who Postern is at the store for one session: SASL PLAIN with authzid = the user's mailbox and
 * authcid = a master user (RFC 4616 §2). The IMAP gateway, the webmail and the dev MTA all log in this
 * way; this is the one place that chooses the master.
 */
import type { Config } from '../config.js';

export interface StoreIdentity {
  host: string;
  port: number;
  tls: boolean;
  /** The master user (SASL authcid). */
  authcid: string;
  password: string;
  /** The mailbox to act as (SASL authzid). */
  authzid: string;
}

/**
 * The store login for `mailbox`, or null when no store is configured. A restricted session uses the
 * restricted master when there is one: the store's ACL then refuses expunges even if the gateway's policy
 * had a hole (defence in depth).
 */
export function storeIdentity(config: Config, session: { mailbox: string; restricted: boolean }): StoreIdentity | null {
  const target = config.UPSTREAM_IMAP;
  if (!target || !config.UPSTREAM_MASTER_USER || !config.UPSTREAM_MASTER_PASSWORD) return null;
  const restrictedMaster =
    session.restricted && config.UPSTREAM_RESTRICTED_MASTER_USER && config.UPSTREAM_RESTRICTED_MASTER_PASSWORD
      ? { authcid: config.UPSTREAM_RESTRICTED_MASTER_USER, password: config.UPSTREAM_RESTRICTED_MASTER_PASSWORD }
      : null;
  return {
    host: target.host,
    port: target.port,
    tls: config.UPSTREAM_IMAP_TLS,
    ...(restrictedMaster ?? { authcid: config.UPSTREAM_MASTER_USER, password: config.UPSTREAM_MASTER_PASSWORD }),
    authzid: session.mailbox,
  };
}
