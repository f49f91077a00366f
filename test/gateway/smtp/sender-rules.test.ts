/**
 * Who may send as whom, end to end through the real accounts core: swaks, Python's smtplib and
 * nodemailer submit to startSmtpSubmission, which relays to the SMTP sink. The envelope AND the
 * From:/Sender: fields must be the user's proven addresses (or their subaddresses); a refused message
 * never reaches the upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { proveAddress } from '../../../src/accounts/address-proofs.js';
import { createPersonality } from '../../../src/accounts/personalities.js';
import { isPosternError } from '../../../src/errors.js';
import { sendableAddresses } from '../../../src/submission/index.js';
import { startSmtpSubmission, type RunningSubmission } from '../../../gateway/smtp/server.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { createSender, mailClient, pythonSend, sendError, swaks } from './fixtures.js';

let ctx: TestContext;
let sink: SmtpSink;
let listener: RunningSubmission;
let aliceId: number;
const alice = { user: 'alice', pass: 'alice-password-1', email: 'alice@example.test' };
const bob = { user: 'bob', pass: 'bob-password-1', email: 'bob@example.test' };

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ env: { UPSTREAM_SMTP: `${sink.host}:${sink.port}` } });
  aliceId = (await createSender(ctx, alice.user, alice.pass, alice.email)).id;
  await createSender(ctx, bob.user, bob.pass, bob.email);
  listener = await startSmtpSubmission(ctx, { host: '127.0.0.1', port: 0, closeTimeoutMs: 200 });
});

beforeEach(() => {
  sink.messages.length = 0;
});

afterAll(async () => {
  await listener?.close();
  await sink?.close();
  await ctx?.close();
});

const message = (headers: string, body = 'hello\r\n') => `${headers}To: <carol@elsewhere.test>\r\nSubject: test\r\n\r\n${body}`;

/** nodemailer with alice's login and envelope, a raw message of our making. */
function sendAsAlice(raw: string, envelopeFrom = alice.email) {
  return mailClient({ port: listener.port, user: alice.user, pass: alice.pass }).sendMail({ envelope: { from: envelopeFrom, to: ['carol@elsewhere.test'] }, raw });
}

async function expectNothingRelayed() {
  await new Promise((r) => setTimeout(r, 100));
  expect(sink.messages).toHaveLength(0);
}

describe('header-only spoofs are refused at the end of DATA', () => {
  it('refuses an owned envelope with a forged From: with 550 5.7.1 naming the address and where to add it (nodemailer)', async () => {
    const err = await sendError(sendAsAlice(message('From: "The CEO" <ceo@example.org>\r\n')));
    expect(err.response).toMatch(/^550 5\.7\.1 The From: header names <ceo@example\.org>, which is not one of your addresses; add and confirm it under Options → Personalities/);
    await expectNothingRelayed();
  });

  it('refuses a forged Sender: (swaks)', async () => {
    const r = await swaks(['--port', String(listener.port), '--auth', 'PLAIN', '--auth-user', alice.user, '--auth-password', alice.pass, '--from', alice.email, '--to', 'carol@elsewhere.test', '--header', `From: <${alice.email}>`, '--add-header', 'Sender: <ceo@bank.test>']);
    expect(r.output).toMatch(/<\*\* 550 5\.7\.1 The Sender: header names <ceo@bank\.test>/);
    await expectNothingRelayed();
  });

  it('refuses a From: listing an owned and a foreign address (Python smtplib)', async () => {
    const r = await pythonSend({ port: listener.port, user: alice.user, pass: alice.pass, from: alice.email, to: ['carol@elsewhere.test'], message: message(`From: Alice <${alice.email}>, Bob <${bob.email}>\r\n`) });
    expect(r.output).toMatch(/^ERR 550 5\.7\.1 The From: header names <bob@example\.test>/);
    await expectNothingRelayed();
  });

  it('refuses a second From: header, whichever comes first', async () => {
    const err = await sendError(sendAsAlice(message(`From: <${alice.email}>\r\nFrom: <ceo@bank.test>\r\n`)));
    expect(err.response).toMatch(/^550 5\.7\.1 The message has more than one From: header/);
    const err2 = await sendError(sendAsAlice(message(`from: <ceo@bank.test>\r\nFROM : <${alice.email}>\r\n`)));
    expect(err2.responseCode).toBe(550);
    await expectNothingRelayed();
  });

  it('judges only the addr-spec: an encoded-word display name holding an address is just a name', async () => {
    // "ceo@bank.test" as the display name, alice's own address as the address: allowed, it is alice's mail.
    await sendAsAlice(message(`From: =?utf-8?B?${Buffer.from('ceo@bank.test').toString('base64')}?= <${alice.email}>\r\n`));
    expect(await sink.waitForMessages(1)).toHaveLength(1);
    // The whole From: as one encoded-word decoding to "<ceo@bank.test>": no address to check, refused.
    const err = await sendError(sendAsAlice(message(`From: =?utf-8?B?${Buffer.from('<ceo@bank.test>').toString('base64')}?=\r\n`)));
    expect(err.response).toMatch(/^550 5\.7\.1 The From: header holds no address/);
  });

  it('refuses a From: that mail readers could read as another address', async () => {
    for (const from of [`Alice <${alice.email}> ceo@bank.test`, `${alice.email} <ceo@bank.test>`, `<${alice.email}>ceo@bank.test`]) {
      expect((await sendError(sendAsAlice(message(`From: ${from}\r\n`)))).responseCode).toBe(550);
    }
    await expectNothingRelayed();
  });

  it('gives a message without From: one made from the envelope sender', async () => {
    await sendAsAlice('To: <carol@elsewhere.test>\r\nSubject: no from\r\n\r\nbody\r\n');
    const [m] = await sink.waitForMessages(1);
    expect(m!.body.toString()).toMatch(/\r\nFrom: <alice@example\.test>\r\nTo: <carol@elsewhere\.test>\r\n/);
  });
});

describe('subaddresses and proven personalities', () => {
  it('lets alice send as alice+tag in the envelope and the header', async () => {
    await sendAsAlice(message('From: Alice <Alice+News@example.test>\r\n'), 'alice+news@example.test');
    expect((await sink.waitForMessages(1))[0]!.from).toBe('alice+news@example.test');
  });

  it("refuses a subaddress of someone else's address", async () => {
    const err = await sendError(sendAsAlice(message('From: <bob+x@example.test>\r\n'), 'bob+x@example.test'));
    expect(err.response).toMatch(/^553 5\.7\.1 Sender address <bob\+x@example\.test> is not one of your addresses/);
  });

  it('refuses an unverified personality as sender and as From:, and allows it once proven', async () => {
    await createPersonality(ctx, { userId: aliceId, name: 'Alice at work', email: 'alice@work.test' });
    expect(await sendableAddresses(ctx, aliceId)).toEqual([alice.email]);
    expect((await sendError(sendAsAlice(message('From: <alice@work.test>\r\n'), 'alice@work.test'))).responseCode).toBe(553);
    expect((await sendError(sendAsAlice(message('From: <alice@work.test>\r\n')))).response).toMatch(/^550 5\.7\.1 The From: header names <alice@work\.test>/);
    await expectNothingRelayed();

    await proveAddress(ctx.db, { userId: aliceId, address: 'alice@work.test', by: 'link' });
    expect(await sendableAddresses(ctx, aliceId)).toEqual([alice.email, 'alice@work.test']);
    await sendAsAlice(message('From: Alice <alice@work.test>\r\nSender: <alice@example.test>\r\n'), 'alice@work.test');
    expect(await sink.waitForMessages(1)).toHaveLength(1);
  });

  it("cannot even add another user's address as a personality", async () => {
    const e = await createPersonality(ctx, { userId: aliceId, name: 'Bob?', email: 'BOB@example.test' }).catch((x: unknown) => x);
    expect(isPosternError(e, 'ADDRESS_TAKEN')).toBe(true);
    await expect(proveAddress(ctx.db, { userId: aliceId, address: bob.email, by: 'link' })).rejects.toMatchObject({ code: 'ADDRESS_TAKEN' });
  });
});

describe('greeting', () => {
  it("does not echo the client's host name or address in the EHLO reply (swaks)", async () => {
    const r = await swaks(['--port', String(listener.port), '--quit-after', 'EHLO', '--ehlo', 'client.test']);
    const greeting = r.output.split('\n').find((l) => l.startsWith('<-  250-'))!;
    expect(greeting).toMatch(/ at your service$/);
    expect(greeting).not.toMatch(/127\.0\.0\.1|localhost|Nice to meet you/);
  });
});
