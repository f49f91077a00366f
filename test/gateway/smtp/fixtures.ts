/**
 * Shared set-up for the SMTP submission tests: users with personalities, a sink as upstream MTA, a
 * listener, and nodemailer as the real mail client.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { AppContext } from '../../../src/context.js';
import { createUser } from '../../../src/accounts/users.js';

/** Creates a user whose default personality has the address `email`. */
export function createSender(ctx: AppContext, username: string, password: string, email: string) {
  return createUser(ctx, { username, password, email });
}

export interface ClientOptions {
  port: number;
  host?: string;
  user?: string;
  pass?: string;
  method?: 'PLAIN' | 'LOGIN';
  /** Refuse to talk without STARTTLS. */
  requireTLS?: boolean;
  /** Implicit TLS from the first byte (SMTPS). */
  secure?: boolean;
  /** The EHLO name (nodemailer's default depends on the machine's hostname). */
  name?: string;
}

/** A nodemailer transport, one connection per message, like a desktop mail client sending now and then. */
export function mailClient(o: ClientOptions) {
  return nodemailer.createTransport({
    host: o.host ?? '127.0.0.1',
    port: o.port,
    name: o.name,
    secure: o.secure ?? false,
    requireTLS: o.requireTLS,
    auth: o.user !== undefined ? { user: o.user, pass: o.pass ?? '' } : undefined,
    authMethod: o.method,
    tls: { rejectUnauthorized: false },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
  });
}

/** A raw RFC 5322 message with CRLF line ends. */
export function rawMessage(from: string, to: string, body: string, subject = 'Test'): string {
  return `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${Math.random()}@postern.test>\r\n\r\n${body}`;
}

/** What nodemailer's sendMail rejected with: the SMTP reply code and text. */
export async function sendError(p: Promise<unknown>): Promise<{ responseCode?: number; response?: string; code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { responseCode?: number; response?: string; code?: string };
  }
  throw new Error('expected the server to refuse the message');
}

/** A throwaway self-signed certificate for STARTTLS tests. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=postern.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface ToolResult {
  status: number;
  output: string;
}

/** Runs swaks (the SMTP test tool) and returns its exit status and whole transcript. */
export function swaks(args: string[]): Promise<ToolResult> {
  return runTool('swaks', ['--server', '127.0.0.1', '--timeout', '10', '--hide-informational', ...args]);
}

/**
 * Sends `message` with Python's smtplib (SMTP, or SMTP_SSL with `implicitTls`), logged in as user/pass.
 * Prints "OK {refused recipient: [code, text]}" (JSON) or "ERR <code> <text>".
 */
export function pythonSend(o: { port: number; user: string; pass: string; from: string; to: string[]; message: string; implicitTls?: boolean }): Promise<ToolResult> {
  const script = `
import json, smtplib, ssl, sys
o = json.load(sys.stdin)
try:
    if o.get("implicitTls"):
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        s = smtplib.SMTP_SSL("127.0.0.1", o["port"], context=ctx, timeout=10)
    else:
        s = smtplib.SMTP("127.0.0.1", o["port"], timeout=10)
    s.login(o["user"], o["pass"])
    refused = s.sendmail(o["from"], o["to"], o["message"].encode("utf-8"))
    s.quit()
    print("OK " + json.dumps({k: [v[0], v[1].decode()] for k, v in sorted(refused.items())}))
except smtplib.SMTPRecipientsRefused as e:
    code, text = list(e.recipients.values())[0]
    print("ERR %d %s" % (code, text.decode()))
except smtplib.SMTPResponseException as e:
    print("ERR %d %s" % (e.smtp_code, e.smtp_error.decode()))
`;
  return runTool('python3', ['-c', script], JSON.stringify(o));
}

function runTool(command: string, args: string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      if (status === -1) return reject(err);
      resolve({ status, output: stdout + stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
