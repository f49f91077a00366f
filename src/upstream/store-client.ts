/**
 * An imapflow client logged in to the store as `identity` (see store-identity.ts): the webmail and the
 * dev MTA read and write mailboxes this way. imapflow emits 'error' on socket failures, which would
 * crash the process without a listener: they are logged here, and the caller sees the failed command.
 */
import { ImapFlow } from 'imapflow';
import type { AppContext } from '../context.js';
import { timeUpstreamLogin } from '../metrics/record.js';
import type { StoreIdentity } from './store-identity.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** Not yet connected: call `connect()`, and `logout()` when done. */
export function storeClient(ctx: AppContext, store: StoreIdentity, component: string): ImapFlow {
  const client = new ImapFlow({
    host: store.host,
    port: store.port,
    secure: store.tls,
    auth: { user: store.authcid, pass: store.password, authzid: store.authzid },
    logger: false,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    // The store sits next to Postern (loopback or the same network): COMPRESS=DEFLATE would only spend
    // CPU on both ends (profiled: zlib was ~0.7 ms of every webmail page against Dovecot).
    disableCompression: true,
  });
  client.on('error', (err) => ctx.log.warn({ err, code: 'UPSTREAM_UNAVAILABLE', component }, 'upstream IMAP error'));
  // connect() is connect + login: timed for the upstream latency histogram.
  const connect = client.connect.bind(client);
  client.connect = async () => {
    const done = timeUpstreamLogin(component);
    try {
      await connect();
      done('ok');
    } catch (e) {
      done('failed');
      throw e;
    }
  };
  return client;
}
