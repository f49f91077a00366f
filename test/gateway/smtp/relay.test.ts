/**
 * Envelope policy and relaying: what reaches the upstream MTA, and what the client is told when it does
 * not. Authentication here is a stand-in that checks the main password only (the real core has its own
 * tests and submission.test.ts drives it end to end); these tests are about MAIL FROM, SIZE and the relay.
 */
import net from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findUserByName } from '../../../src/accounts/users.js';
import type { AuthResult } from '../../../src/auth/types.js';
import { startSubmissionListener, type Authenticator, type RunningSubmission } from '../../../gateway/smtp/submission.js';
import { relayMessage } from '../../../src/submission/relay.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, rawMessage, sendError } from './fixtures.js';

const MAX = 64 * 1024;

const mainPasswordOnly: Authenticator = async (ctx, req): Promise<AuthResult> => {
  const user = await findUserByName(ctx, req.username);
  if (!user?.passwordHash || !(await ctx.hasher.verify(user.passwordHash, req.secret))) return { ok: false, reason: 'failed' };
  return { ok: true, userId: user.id, username: user.username, upstreamUser: user.upstreamUser, loginId: null, method: 'main', restricted: false };
};

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
const alice = { user: 'alice', pass: 'alice-password-1', email: 'alice@example.test' };

beforeAll(async () => {
  ctx = await createTestContext({ env: { MAX_MESSAGE_SIZE: String(MAX) } });
  await createSender(ctx, alice.user, alice.pass, alice.email);
  await createSender(ctx, 'bob', 'bob-password-1', 'bob@example.test');
});

beforeEach(async () => {
  await listener?.close();
  await sink?.close();
  sink = await startSmtpSink();
  listener = await startSubmissionListener(
    ctx,
    { host: '127.0.0.1', port: 0, upstream: { host: sink.host, port: sink.port }, closeTimeoutMs: 200 },
    mainPasswordOnly,
  );
});

afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

const client = () => mailClient({ port: listener.port, user: alice.user, pass: alice.pass });

describe('envelope policy', () => {
  it('relays a message from an address the user owns, body intact, with a Received trace header on top', async () => {
    const body = 'Line one\r\n.Leading dot survives\r\n..two dots\r\nCaf\u00e9 8-bit\r\n\r\n.\r\nend\r\n';
    const raw = rawMessage(alice.email, 'carol@elsewhere.test', body);
    await client().sendMail({ envelope: { from: alice.email, to: ['carol@elsewhere.test'] }, raw });
    const [m] = await sink.waitForMessages(1);
    expect(m!.from).toBe(alice.email);
    expect(m!.to).toEqual(['carol@elsewhere.test']);
    const text = m!.body.toString('utf8');
    expect(text).toMatch(/^Received: from [^\r\n]+\r\n\tby [^\r\n]+ \(Postern\) with ESMTPA id /);
    expect(text.endsWith(raw)).toBe(true);
    expect(text).not.toContain(alice.pass);
  });

  it('accepts the owned address in any letter case', async () => {
    await client().sendMail({ envelope: { from: 'Alice@EXAMPLE.test', to: ['carol@elsewhere.test'] }, raw: rawMessage(alice.email, 'carol@elsewhere.test', 'hi\r\n') });
    expect((await sink.waitForMessages(1))[0]!.from.toLowerCase()).toBe(alice.email);
  });

  it("refuses another user's address as MAIL FROM with 553 5.7.1 and relays nothing", async () => {
    const err = await sendError(client().sendMail({ envelope: { from: 'bob@example.test', to: ['carol@elsewhere.test'] }, raw: rawMessage('bob@example.test', 'carol@elsewhere.test', 'x\r\n') }));
    expect(err.responseCode).toBe(553);
    expect(err.response).toMatch(/^553 5\.7\.1 /);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.messages).toHaveLength(0);
  });

  it('refuses an address nobody owns', async () => {
    const err = await sendError(client().sendMail({ envelope: { from: 'ceo@bank.test', to: ['carol@elsewhere.test'] }, raw: rawMessage('ceo@bank.test', 'carol@elsewhere.test', 'x\r\n') }));
    expect(err.response).toMatch(/^553 5\.7\.1 /);
  });

  it('refuses the null sender <> from a user', async () => {
    const reply = await rawDialogue(listener.port, ['EHLO t', authPlain(alice.user, alice.pass), 'MAIL FROM:<>']);
    expect(reply.at(-1)).toMatch(/^553 5\.7\.1 /);
  });

  it('refuses MAIL FROM before authentication with 530', async () => {
    const err = await sendError(mailClient({ port: listener.port }).sendMail({ envelope: { from: alice.email, to: ['c@x.test'] }, raw: rawMessage(alice.email, 'c@x.test', 'x\r\n') }));
    expect(err.responseCode).toBe(530);
    expect(sink.messages).toHaveLength(0);
  });

  it('refuses a wrong password with 535 5.7.8 and relays nothing', async () => {
    const err = await sendError(mailClient({ port: listener.port, user: alice.user, pass: 'wrong-password' }).sendMail({ envelope: { from: alice.email, to: ['c@x.test'] }, raw: rawMessage(alice.email, 'c@x.test', 'x\r\n') }));
    expect(err.response).toBe('535 5.7.8 Authentication credentials invalid');
    expect(sink.messages).toHaveLength(0);
  });
});

describe('size limit', () => {
  it('advertises SIZE and refuses a declared size over MAX_MESSAGE_SIZE at MAIL FROM', async () => {
    const ehlo = await rawDialogue(listener.port, ['EHLO t']);
    expect(ehlo.join('\n')).toContain(`SIZE ${MAX}`);
    const reply = await rawDialogue(listener.port, ['EHLO t', authPlain(alice.user, alice.pass), `MAIL FROM:<${alice.email}> SIZE=${MAX + 1}`]);
    expect(reply.at(-1)).toMatch(/^552 /);
    const ok = await rawDialogue(listener.port, ['EHLO t', authPlain(alice.user, alice.pass), `MAIL FROM:<${alice.email}> SIZE=${MAX}`]);
    expect(ok.at(-1)).toMatch(/^250 /);
  });

  it('passes the declared size on to the upstream', async () => {
    const raw = rawMessage(alice.email, 'c@x.test', 'sized\r\n');
    const conn = await smtpConnect(listener.port);
    await new Promise((resolve, reject) => conn.send({ from: alice.email, to: ['c@x.test'], size: raw.length }, raw, (e, i) => (e ? reject(e) : resolve(i))));
    conn.quit();
    expect((await sink.waitForMessages(1))[0]!.declaredSize).toBe(raw.length);
  });

  it('refuses an undeclared oversized message with 552 and the upstream never gets a complete copy', async () => {
    const big = 'x'.repeat(76) + '\r\n';
    const raw = rawMessage(alice.email, 'c@x.test', big.repeat(Math.ceil((MAX * 2) / big.length)));
    const err = await sendError(client().sendMail({ envelope: { from: alice.email, to: ['c@x.test'] }, raw }));
    expect(err.responseCode).toBe(552);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.messages).toHaveLength(0);
    // The client still has a usable session: the next message goes through.
    await client().sendMail({ envelope: { from: alice.email, to: ['c@x.test'] }, raw: rawMessage(alice.email, 'c@x.test', 'small\r\n') });
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });
});

describe('upstream trouble', () => {
  const send = () => client().sendMail({ envelope: { from: alice.email, to: ['c@x.test'] }, raw: rawMessage(alice.email, 'c@x.test', 'keep me\r\n') });

  it('answers 451 4.4.1 when the upstream MTA is down, so the client keeps the message and retries', async () => {
    await sink.goDown();
    const err = await sendError(send());
    expect(err.responseCode).toBe(451);
    expect(err.response).toMatch(/^451 4\.4\.1 /);
  });

  it('a relay with a deadline gives up on an upstream that answers too slowly, as a temporary failure', async () => {
    sink.replyDelayMs = 2000;
    const started = Date.now();
    const outcome = await relayMessage({ host: sink.host, port: sink.port }, { from: alice.email, to: ['c@x.test'] }, Buffer.from(rawMessage(alice.email, 'c@x.test', 'slow\r\n')), { deadlineMs: 300 });
    expect(outcome).toMatchObject({ ok: false, failure: { code: 'SEND_UPSTREAM_TIMEOUT', smtpStatus: 451 } });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('passes a temporary upstream refusal on as 451', async () => {
    sink.dataReply = 'defer';
    expect((await sendError(send())).response).toMatch(/^451 4\.4\.2 /);
  });

  it('passes a permanent upstream refusal on as a 5xx', async () => {
    sink.dataReply = 'refuse';
    expect((await sendError(send())).responseCode).toBe(554);
  });

  it('fails the whole message when the upstream refuses every recipient', async () => {
    sink.refuseRecipients.add('c@x.test');
    expect((await sendError(send())).responseCode).toBe(554);
  });

  it('names the refused recipients when the upstream takes the message for the others', async () => {
    sink.refuseRecipients.add('gone@x.test');
    const info = await client().sendMail({ envelope: { from: alice.email, to: ['c@x.test', 'gone@x.test'] }, raw: rawMessage(alice.email, 'c@x.test', 'x\r\n') });
    expect(info.response).toMatch(/refused by the outgoing server: gone@x\.test \(550\)/);
    expect((await sink.waitForMessages(1))[0]!.to).toEqual(['c@x.test']);
  });

  it('does not relay a message whose client disconnects in the middle of DATA', async () => {
    const lines = ['EHLO t', authPlain(alice.user, alice.pass), `MAIL FROM:<${alice.email}>`, 'RCPT TO:<c@x.test>', 'DATA'];
    const socket = await rawDialogueOpen(listener.port, lines);
    socket.write('Subject: half\r\n\r\n' + 'partial line\r\n'.repeat(100));
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages).toHaveLength(0);
  });
});

function authPlain(user: string, pass: string): string {
  return `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`;
}

function smtpConnect(port: number): Promise<SMTPConnection> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host: '127.0.0.1', port, logger: false });
    conn.once('error', reject);
    conn.connect(() => conn.login({ user: alice.user, pass: alice.pass }, (err) => (err ? reject(err) : resolve(conn))));
  });
}

/** Sends each line after the previous reply arrived; returns the socket still open. */
async function rawDialogueOpen(port: number, lines: string[], replies: string[] = []): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const nextReply = () =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buffer);
        if (!m) return false;
        const r = buffer;
        buffer = '';
        socket.off('data', onData);
        resolve(r.trimEnd());
        return true;
      };
      const onData = (d: Buffer) => {
        buffer += d.toString('utf8');
        check();
      };
      socket.on('data', onData);
    });
  replies.push(await nextReply());
  for (const line of lines) {
    const reply = nextReply();
    socket.write(line + '\r\n');
    replies.push(...(await reply).split('\r\n'));
  }
  return socket;
}

async function rawDialogue(port: number, lines: string[]): Promise<string[]> {
  const replies: string[] = [];
  const socket = await rawDialogueOpen(port, lines, replies);
  socket.destroy();
  return replies;
}
