/**
 * The dev stack's outgoing mail server, used when UPSTREAM_SMTP is not set: a tiny SMTP server on
 * 127.0.0.1 that delivers each message straight into the upstream store, by IMAP APPEND to the INBOX
 * of every recipient who is a Postern user (an address of one of their personalities, or a login name
 * that is an email address). Mail for anyone else is dropped with a log line: the demo can send mail to
 * itself, and nothing ever leaves the machine.
 *
 * It accepts mail without authentication, which is safe only because it listens on loopback and only
 * the submission listener (which authenticates) is told its port.
 */
import { SMTPServer } from 'smtp-server';
import type { AppContext } from '../context.js';
import { findMailboxesOwning } from '../accounts/addresses.js';
import { storeClient } from './store-client.js';
import { storeIdentity } from './store-identity.js';

export interface DevMta {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Appends one message to `mailbox`'s INBOX, logged in to the store as the master user for that mailbox. */
async function appendToInbox(ctx: AppContext, mailbox: string, message: Buffer): Promise<void> {
  const store = storeIdentity(ctx.config, { mailbox, restricted: false });
  if (!store) throw new Error('no upstream IMAP configured');
  const client = storeClient(ctx, store, 'dev-mta');
  await client.connect();
  try {
    await client.append('INBOX', message);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Starts the dev MTA on 127.0.0.1 (a free port). Point the submission listener's `upstream` at it. */
export async function startDevMta(ctx: AppContext): Promise<DevMta> {
  const log = ctx.log.child({ component: 'dev-mta' });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: ctx.config.MAX_MESSAGE_SIZE,
    rejectOversized: true,
    logger: false,
    closeTimeout: 2000,
    onData(stream, session, done) {
      // APPEND needs the size before the bytes, so the dev MTA holds one message (at most MAX_MESSAGE_SIZE).
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stream.sizeExceeded) return done();
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const message = Buffer.concat([Buffer.from(`Return-Path: <${from}>\r\n`), ...chunks]);
        deliver(ctx, log, session.envelope.rcptTo.map((r) => r.address), message).then(
          (delivered) => done(null, `delivered to ${delivered} local mailbox(es)`),
          (err: unknown) => {
            log.warn({ code: 'DEV_MTA_APPEND_FAILED', err: (err as Error).name }, 'could not append to the store');
            done(Object.assign(new Error('4.4.1 The mail store is not reachable; try again later'), { responseCode: 451 }));
          },
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  log.info({ port }, 'dev MTA listening (mail for local users goes to their INBOX)');
  return { host: '127.0.0.1', port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function deliver(ctx: AppContext, log: AppContext['log'], recipients: string[], message: Buffer): Promise<number> {
  const mailboxes = new Set<string>();
  for (const rcpt of recipients) {
    const found = await findMailboxesOwning(ctx, rcpt);
    if (!found.length) log.info({ code: 'DEV_MTA_DROPPED' }, 'recipient is not a local user: message dropped for it (dev MTA)');
    for (const m of found) mailboxes.add(m);
  }
  // One copy per mailbox, even when a message names two addresses of the same person.
  for (const mailbox of mailboxes) await appendToInbox(ctx, mailbox, message);
  return mailboxes.size;
}
