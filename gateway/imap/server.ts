/**
 * IMAP listener. PLACEHOLDER until the relay lands: greets, answers CAPABILITY/NOOP/LOGOUT politely and
 * says the gateway is not yet available. Replaced by the real gateway (issue #5).
 */
import net from 'node:net';
import type { AppContext } from '../../src/context.js';

export interface ImapGatewayOptions {
  host: string;
  port: number;
}

export interface RunningListener {
  port: number;
  close(): Promise<void>;
}

export async function startImapGateway(_ctx: AppContext, options: ImapGatewayOptions): Promise<RunningListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.end('* BYE [UNAVAILABLE] Postern IMAP gateway is not yet available\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
