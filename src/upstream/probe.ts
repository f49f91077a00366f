/** Is the upstream IMAP store answering? Used by /readyz; connects, reads the greeting, hangs up. */
import net from 'node:net';
import tls from 'node:tls';

export async function probeImap(target: { host: string; port: number; tls?: boolean }, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: target.host })
      : net.connect(target.port, target.host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => {
      const greeting = d.toString('latin1');
      if (greeting.startsWith('* OK')) socket.end('h LOGOUT\r\n');
      done(greeting.startsWith('* OK'));
    });
  });
}
