/**
 * A minimal IMAP client for benchmarks: the same code talks to Dovecot directly and to Postern, so the
 * comparison measures the gateway, not two different clients. It frames responses by literal counts so
 * message bodies are never scanned for protocol.
 */
import net from 'node:net';

export class RawImap {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { tag: string; resolve: (r: { status: string; bytes: number; text: string; tagged: string }) => void; reject: (e: Error) => void } | null = null;
  private bytes = 0;
  private text = '';
  private tagN = 0;
  private literalLeft = 0;
  private continuation: ((line: string) => void) | null = null;
  keepText = true;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.pending?.reject(e));
    socket.on('close', () => this.pending?.reject(new Error('connection closed')));
  }

  /** `localAddress`: connect from another loopback address (bench/scale.ts: not the trusted proxy's). */
  static async connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawImap> {
    const socket = net.connect({ port, host, localAddress });
    socket.setNoDelay(true);
    const greeting = await new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.once('error', reject);
    });
    if (!greeting.startsWith('* OK')) throw new Error(`bad greeting: ${greeting}`);
    return new RawImap(socket);
  }

  /** Sends a command (without tag) and resolves at its tagged response. */
  command(line: string): Promise<{ status: string; bytes: number; text: string; tagged: string }> {
    const tag = `b${++this.tagN}`;
    this.bytes = 0;
    this.text = '';
    return new Promise((resolve, reject) => {
      this.pending = { tag, resolve, reject };
      this.socket.write(`${tag} ${line}\r\n`);
    });
  }

  /** Sends raw bytes (e.g. a literal body after a continuation). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Starts IDLE and resolves at the server's `+` (the session is then idling, RFC 2177). */
  idle(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.continuation = resolve;
      this.socket.once('close', () => reject(new Error('connection closed before IDLE started')));
      this.socket.write(`b${++this.tagN} IDLE\r\n`);
    });
  }

  async login(user: string, pass: string): Promise<void> {
    const r = await this.command(`LOGIN ${quote(user)} ${quote(pass)}`);
    if (r.status !== 'OK') throw new Error(`login failed: ${r.tagged}`);
  }

  /** SASL PLAIN with an authorization identity, as the gateway logs in to the store. */
  async loginAsMaster(mailbox: string, master: string, pass: string): Promise<void> {
    const ir = Buffer.from(`${mailbox}\0${master}\0${pass}`).toString('base64');
    const r = await this.command(`AUTHENTICATE PLAIN ${ir}`);
    if (r.status !== 'OK') throw new Error(`master login failed: ${r.text}`);
  }

  async append(folder: string, message: Buffer): Promise<void> {
    const r = await new Promise<{ status: string; text: string }>((resolve, reject) => {
      const tag = `b${++this.tagN}`;
      this.text = '';
      this.pending = { tag, resolve, reject };
      this.socket.write(`${tag} APPEND ${quote(folder)} {${message.length}+}\r\n`);
      this.socket.write(message);
      this.socket.write('\r\n');
    });
    if (r.status !== 'OK') throw new Error(`append failed: ${r.text}`);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buffer.length);
        this.literalLeft -= take;
        this.buffer = this.buffer.subarray(take);
        if (this.literalLeft > 0) return;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 2);
      if (this.keepText && this.text.length < 1_000_000) this.text += line + '\n';
      const lit = /\{(\d+)\+?\}$/.exec(line);
      if (lit) this.literalLeft = Number(lit[1]);
      if (this.continuation && line.startsWith('+')) {
        const resolve = this.continuation;
        this.continuation = null;
        resolve(line);
      }
      const p = this.pending;
      if (p && line.startsWith(`${p.tag} `)) {
        this.pending = null;
        p.resolve({ status: line.split(' ')[1]!, bytes: this.bytes, text: this.text, tagged: line });
      }
    }
  }
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
