/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) in front of the mail listeners: a
 * trusted balancer's first bytes name the client it is relaying, so throttling, audit rows, connection caps,
 * the session registry and Dovecot's x-originating-ip see the client, not the balancer.
 *
 * Trust is by socket peer (TRUSTED_PROXIES) and all-or-nothing:
 * - from a trusted proxy the header is required: none, a malformed one, one over the size bounds, or one
 *   not complete within PROXY_HEADER_TIMEOUT_MS closes the connection. (A header-less connection from the
 *   balancer would otherwise put every client behind it in one throttle bucket; and mail servers speak
 *   first, so waiting for a header that never comes is the only way to tell.)
 * - from anyone else a header is a forgery: the connection is closed before any of it reaches a protocol
 *   parser (screenForgedHeader).
 * parseProxyHeader is pure (bytes in, verdict out); readProxyHeader and screenForgedHeader hold the socket.
 */
import net from 'node:net';
import { normalizePeerAddress } from '../src/trusted-proxies.js';

/** v1: the whole line, "PROXY " to CRLF, is at most 107 bytes (proxy-protocol.txt §2.1). */
export const MAX_V1_HEADER_BYTES = 107;
/** v2: 16 fixed bytes, then at most this many of addresses and TLVs (HAProxy sends far fewer). */
export const MAX_V2_PAYLOAD_BYTES = 1024;
/** A balancer sends its header at once; a peer that trickles it is cut off. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export interface ProxySource {
  address: string;
  port: number;
}

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `source` null: the proxy speaks for itself (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC/UNIX): use the socket peer. */
  | { kind: 'header'; length: number; source: ProxySource | null };

/** Whether `bytes` so far can still be the start of a v1 or v2 signature. */
export function signatureMatch(bytes: Buffer): 'yes' | 'maybe' | 'no' {
  for (const signature of [V1_SIGNATURE, V2_SIGNATURE]) {
    const n = Math.min(bytes.length, signature.length);
    if (bytes.subarray(0, n).equals(signature.subarray(0, n))) return n === signature.length ? 'yes' : 'maybe';
  }
  return 'no';
}

/** Reads one PROXY header from the start of `bytes`. */
export function parseProxyHeader(bytes: Buffer): ProxyParse {
  const match = signatureMatch(bytes);
  if (match === 'no') return { kind: 'invalid', reason: 'no PROXY protocol signature' };
  if (match === 'maybe') return { kind: 'incomplete' };
  return bytes[0] === 0x50 ? parseV1(bytes) : parseV2(bytes);
}

const V1_PORT = /^(0|[1-9]\d{0,4})$/;

function parseV1(bytes: Buffer): ProxyParse {
  const limit = Math.min(bytes.length, MAX_V1_HEADER_BYTES);
  const lf = bytes.subarray(0, limit).indexOf(0x0a);
  if (lf < 0) return bytes.length >= MAX_V1_HEADER_BYTES ? { kind: 'invalid', reason: 'v1 header longer than 107 bytes' } : { kind: 'incomplete' };
  if (lf === 0 || bytes[lf - 1] !== 0x0d) return { kind: 'invalid', reason: 'v1 header not ended by CRLF' };
  const line = bytes.subarray(0, lf - 1);
  if (line.some((b) => b < 0x20 || b > 0x7e)) return { kind: 'invalid', reason: 'v1 header has control or 8-bit bytes' };
  const fields = line.toString('latin1').split(' ');
  const length = lf + 1;
  // "PROXY UNKNOWN" may be followed by anything; the receiver uses the real connection's addresses.
  if (fields[1] === 'UNKNOWN') return { kind: 'header', length, source: null };
  if (fields.length !== 6) return { kind: 'invalid', reason: 'v1 header needs protocol, two addresses and two ports' };
  const [, protocol, src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const family = protocol === 'TCP4' ? 4 : protocol === 'TCP6' ? 6 : 0;
  if (!family) return { kind: 'invalid', reason: 'v1 protocol is not TCP4, TCP6 or UNKNOWN' };
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return { kind: 'invalid', reason: 'v1 address does not match its protocol' };
  if (!V1_PORT.test(sport) || !V1_PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535)
    return { kind: 'invalid', reason: 'v1 port out of range' };
  return { kind: 'header', length, source: { address: normalizePeerAddress(src.toLowerCase()), port: Number(sport) } };
}

function parseV2(bytes: Buffer): ProxyParse {
  if (bytes.length < 16) return { kind: 'incomplete' };
  const version = bytes[12]! >> 4;
  const command = bytes[12]! & 0x0f;
  const family = bytes[13]! >> 4;
  const transport = bytes[13]! & 0x0f;
  const payload = bytes.readUInt16BE(14);
  if (version !== 2) return { kind: 'invalid', reason: 'v2 header with another version' };
  if (command > 1) return { kind: 'invalid', reason: 'v2 command is neither LOCAL nor PROXY' };
  if (payload > MAX_V2_PAYLOAD_BYTES) return { kind: 'invalid', reason: `v2 header longer than ${MAX_V2_PAYLOAD_BYTES} bytes after its signature` };
  if (bytes.length < 16 + payload) return { kind: 'incomplete' };
  const length = 16 + payload;
  // LOCAL: the proxy's own connection (health checks); the address block, if any, is ignored.
  if (command === 0) return { kind: 'header', length, source: null };
  if (transport !== 0 && transport !== 1) return { kind: 'invalid', reason: 'v2 transport is not a stream' };
  if (family === 0 || family === 3) return { kind: 'header', length, source: null };
  const body = bytes.subarray(16, length);
  if (family === 1) {
    if (payload < 12) return { kind: 'invalid', reason: 'v2 IPv4 address block too short' };
    return { kind: 'header', length, source: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) } };
  }
  if (family === 2) {
    if (payload < 36) return { kind: 'invalid', reason: 'v2 IPv6 address block too short' };
    return { kind: 'header', length, source: { address: normalizePeerAddress(ipv6Text(body.subarray(0, 16))), port: body.readUInt16BE(32) } };
  }
  return { kind: 'invalid', reason: 'v2 address family unknown' };
}

/** 16 bytes as an IPv6 address in its canonical text form (RFC 5952), via the URL parser's serializer. */
function ipv6Text(raw: Buffer): string {
  // IPv4-mapped (::ffff:a.b.c.d): the client is an IPv4 one, written as the rest of Postern writes those.
  if (raw.subarray(0, 10).every((b) => b === 0) && raw.readUInt16BE(10) === 0xffff) return [...raw.subarray(12)].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.replace(/^\[|\]$/g, '');
}

export type ProxyOutcome = { ok: true; clientIp: string; clientPort: number | null } | { ok: false; reason: string };

/**
 * Reads a trusted proxy's header from `socket` (bounded in bytes and time); bytes after it are put back
 * for the protocol (or the TLS handshake) that follows. On failure the socket is destroyed.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs = PROXY_HEADER_TIMEOUT_MS): Promise<ProxyOutcome> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: ProxyOutcome, rest?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      if (!outcome.ok) {
        socket.on('error', () => {});
        socket.destroy();
      } else if (rest?.length) socket.unshift(rest);
      resolve(outcome);
    };
    const onEnd = () => finish({ ok: false, reason: 'closed before the PROXY header' });
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.kind === 'invalid') return finish({ ok: false, reason: parsed.reason });
        if (parsed.kind === 'header') {
          const peer = normalizePeerAddress(socket.remoteAddress);
          const outcome: ProxyOutcome = parsed.source
            ? { ok: true, clientIp: parsed.source.address, clientPort: parsed.source.port }
            : { ok: true, clientIp: peer, clientPort: socket.remotePort ?? null };
          return finish(outcome, buffered.subarray(parsed.length));
        }
        // Incomplete, and already more than any valid header could be.
        if (buffered.length > 16 + MAX_V2_PAYLOAD_BYTES) return finish({ ok: false, reason: 'PROXY header too long' });
      }
    };
    const timer = setTimeout(() => finish({ ok: false, reason: buffered.length ? 'PROXY header incomplete in time' : 'no PROXY header in time' }), timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/**
 * From a peer that is not a trusted proxy, a PROXY header is a forgery: the socket is destroyed before its
 * bytes reach the protocol (the check sits where the socket hands incoming bytes to its readers, so nothing
 * of the first packet is parsed as commands). Bytes that could still be the start of a signature are held
 * back until they are not (at most 12).
 */
export function screenForgedHeader(socket: net.Socket, onForged: () => void): void {
  const push = socket.push.bind(socket);
  let held = Buffer.alloc(0);
  const screened = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk === null) {
      socket.push = push;
      if (held.length) push(held);
      return push(null);
    }
    held = Buffer.concat([held, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding)]);
    const match = signatureMatch(held);
    if (match === 'maybe') return true;
    socket.push = push;
    if (match === 'yes') {
      held = Buffer.alloc(0);
      onForged();
      socket.destroy();
      return false;
    }
    const bytes = held;
    held = Buffer.alloc(0);
    return push(bytes);
  };
  socket.push = screened;
}
