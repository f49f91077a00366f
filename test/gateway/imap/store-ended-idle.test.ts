/**
 * A store that ends IDLE on its own (a tagged OK before any DONE, as some servers do at their IDLE
 * timeout). Dovecot never does this, so a small scripted store plays it: the client's next line must be
 * read as the command it is, and a DONE sent late, before the client saw the OK, must not become one.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningImapGateway, startImapGateway } from '../../../gateway/imap/server.js';
import { RawClient, createMailUser, startLiveGateway, type LiveGateway, type MailUser } from './live-gateway.js';

let live: LiveGateway;
let user: MailUser;
let store: net.Server;
let gateway: RunningImapGateway;
/** Every line the scripted store received. */
const received: string[] = [];

/** Greets, accepts the gateway's ID and login, answers IDLE with `+` and then its own tagged OK. */
function scriptedStore(socket: net.Socket): void {
  socket.write('* OK [CAPABILITY IMAP4rev1 SASL-IR IDLE] scripted store ready\r\n');
  let buffer = '';
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      received.push(line);
      const [tag, name] = line.split(' ');
      if (name === 'AUTHENTICATE') socket.write(`${tag} OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n`);
      else if (name === 'IDLE') socket.write(`+ idling\r\n${tag} OK IDLE ended by the server\r\n`);
      else if (name === 'LOGOUT') socket.end(`* BYE bye\r\n${tag} OK bye\r\n`);
      else if (tag !== 'DONE') socket.write(`${tag} OK ${name ?? ''} done\r\n`);
    }
  });
  socket.on('error', () => socket.destroy());
}

beforeAll(async () => {
  live = await startLiveGateway();
  user = await createMailUser(live.ctx, 'ie');
  store = net.createServer(scriptedStore);
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  const { port } = store.address() as net.AddressInfo;
  const ctx = { ...live.ctx, config: { ...live.ctx.config, UPSTREAM_IMAP: { host: '127.0.0.1', port } } };
  gateway = await startImapGateway(ctx, { host: '127.0.0.1', port: 0, sessionReuseMs: 0 });
});
afterAll(async () => {
  await gateway.close();
  await new Promise<void>((resolve) => store.close(() => resolve()));
  await live.close();
});

describe('an IDLE the store ends itself', () => {
  it('reads the next line as a command', async () => {
    const c = await RawClient.connect(gateway.port);
    await c.login(user.username, user.app);
    c.send('i1 IDLE\r\n');
    expect(await c.tagged('i1')).toBe('i1 OK IDLE ended by the server');
    expect(await c.command('n1', 'NOOP')).toBe('n1 OK NOOP done');
    c.close();
  });

  it('drops a DONE the client sent before it saw the OK, and never relays it', async () => {
    const c = await RawClient.connect(gateway.port);
    await c.login(user.username, user.app);
    const before = received.length;
    c.send('i1 IDLE\r\n');
    await c.tagged('i1');
    c.send('DONE\r\nn1 NOOP\r\n');
    expect(await c.tagged('n1')).toBe('n1 OK NOOP done');
    expect(c.text).not.toMatch(/BAD/);
    expect(received.slice(before)).toEqual(['i1 IDLE', 'n1 NOOP']);
    c.close();
  });
});
