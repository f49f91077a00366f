/**
 * A stand-in for the upstream MTA: an smtp-server on 127.0.0.1 that records every envelope and message it
 * accepts. Switches make it refuse (permanently or temporarily, at RCPT or at the end of DATA) or go down
 * (stop listening, so connections are refused) to test what the submission listener tells its clients.
 */
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  from: string;
  to: string[];
  /** The message exactly as received (after un-dot-stuffing). */
  body: Buffer;
  /** The SIZE the client declared with MAIL FROM, if any. */
  declaredSize?: number;
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: SinkMessage[];
  /** Transactions that started DATA but never finished it (the client dropped the connection). */
  abandoned: number;
  /** Reply to the end of DATA: accept, refuse permanently (554) or defer (451). */
  dataReply: 'accept' | 'refuse' | 'defer';
  /** The next this many messages are deferred (451) whatever `dataReply` says; counts down. */
  deferNext: number;
  /** Messages deferred so far (by `deferNext` or `dataReply`). */
  deferred: number;
  /** Waits this long before answering the end of DATA (a slow MTA). */
  replyDelayMs: number;
  /** Recipients answered 550 at RCPT TO. */
  refuseRecipients: Set<string>;
  /** Resolves once `count` messages have been recorded. */
  waitForMessages(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  /** Stops listening; later connections are refused. */
  goDown(): Promise<void>;
  close(): Promise<void>;
}

/** `port`: listen there (to come back up where a test took the sink down); default a free one. */
/**
 * `usersMailOnly`: mail Postern writes itself (login notices, address confirmations: `Auto-Submitted:
 * auto-generated`) is not recorded, so a test of what a user sends counts only that.
 */
export async function startSmtpSink(options: { port?: number; usersMailOnly?: boolean } = {}): Promise<SmtpSink> {
  const waiters: Array<() => void> = [];
  // Callbacks below run after `sink` exists (set up just after the server object).
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 100,
    // Advertised so clients declare SIZE=; not enforced, the sink records whatever it gets.
    size: 1024 * 1024 * 1024,
    onRcptTo(address, _session, done) {
      if (sink.refuseRecipients.has(address.address.toLowerCase())) {
        return done(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      }
      done();
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      let ended = false;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => undefined);
      stream.on('close', () => {
        if (!ended) sink.abandoned++;
      });
      stream.on('end', () => {
        ended = true;
        void new Promise((r) => setTimeout(r, sink.replyDelayMs)).then(() => answer());
      });
      const answer = () => {
        if (sink.deferNext > 0) {
          sink.deferNext--;
          sink.deferred++;
          return done(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
        }
        if (sink.dataReply === 'defer') sink.deferred++;
        if (sink.dataReply === 'refuse') return done(Object.assign(new Error('5.7.1 Refused by policy'), { responseCode: 554 }));
        if (sink.dataReply === 'defer') return done(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
        const body = Buffer.concat(chunks);
        const head = body.subarray(0, Math.max(0, body.indexOf('\r\n\r\n'))).toString('latin1');
        if (options.usersMailOnly && /^auto-submitted:\s*auto-generated/im.test(head)) return done(null, 'queued');
        const args = session.envelope.mailFrom ? (session.envelope.mailFrom.args as Record<string, string> | false) : false;
        sink.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          body,
          declaredSize: args && args.SIZE ? Number(args.SIZE) : undefined,
        });
        for (const w of waiters.splice(0)) w();
        done(null, 'queued');
      };
    },
  });
  const sink: SmtpSink = {
    host: '127.0.0.1',
    port: 0,
    messages: [],
    abandoned: 0,
    dataReply: 'accept',
    deferNext: 0,
    deferred: 0,
    replyDelayMs: 0,
    refuseRecipients: new Set(),
    waitForMessages(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sink: ${sink.messages.length} of ${count} messages after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (sink.messages.length < count) return false;
          clearTimeout(timer);
          resolve(sink.messages);
          return true;
        };
        if (!check()) waiters.push(() => void check());
      });
    },
    goDown: () => new Promise((resolve) => server.close(() => resolve())),
    close: () => new Promise((resolve) => (server.server.listening ? server.close(() => resolve()) : resolve())),
  };
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  sink.port = (server.server.address() as { port: number }).port;
  return sink;
}
