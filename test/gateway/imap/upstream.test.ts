import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { openUpstream, UpstreamError } from '../../../gateway/imap/upstream.js';

function target() {
  const d = inject('dovecot');
  return { host: d.host, port: d.port, tls: false };
}

/** Sends one command on an opened session and collects the lines up to its tagged answer. */
function command(socket: net.Socket, leftover: Buffer, line: string): Promise<string> {
  return new Promise((resolve) => {
    let text = leftover.toString();
    socket.on('data', (d) => {
      text += d.toString();
      if (/\r\nT1 (OK|NO|BAD)[^\r]*\r\n$|^T1 (OK|NO|BAD)[^\r]*\r\n$/.test(text)) resolve(text);
    });
    socket.write(`T1 ${line}\r\n`);
  });
}

describe('upstream login', () => {
  it('logs in as the mailbox user through the master identity', async () => {
    const d = inject('dovecot');
    const s = await openUpstream(target(), { authcid: d.masterUser, password: d.masterPassword, authzid: 'up-alice' }, '198.51.100.7');
    expect(s.capabilities).toContain('IMAP4rev1');
    const reply = await command(s.socket, s.leftover, 'NAMESPACE');
    expect(reply).toMatch(/T1 OK/);
    s.socket.destroy();
    // The store logged the client's address, not the gateway's: ID reached the login process.
    expect(fs.readFileSync(d.logPath, 'utf8')).toMatch(/user=<up-alice>.*rip=198\.51\.100\.7/);
  });

  it('fails with UPSTREAM_LOGIN_REFUSED for a wrong master password', async () => {
    const d = inject('dovecot');
    const error = await openUpstream(target(), { authcid: d.masterUser, password: 'nope', authzid: 'up-bob' }, '127.0.0.1').catch((e) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_LOGIN_REFUSED');
  });

  it('fails with UPSTREAM_UNREACHABLE when nothing listens', async () => {
    const error = await openUpstream({ host: '127.0.0.1', port: 1, tls: false }, { authcid: 'm', password: 'p', authzid: 'u' }, '127.0.0.1').catch((e) => e);
    expect(error.code).toBe('UPSTREAM_UNREACHABLE');
  });

  it('refuses a store that greets with PREAUTH', async () => {
    const server = net.createServer((s) => s.write('* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const error = await openUpstream({ host: '127.0.0.1', port, tls: false }, { authcid: 'm', password: 'p', authzid: 'u' }, '127.0.0.1').catch((e) => e);
    expect(error.code).toBe('UPSTREAM_PREAUTH');
    server.close();
  });
});
