/**
 * The not-authenticated state (RFC 9051 §6.1, §6.2), answered by the gateway itself: nothing reaches
 * the store before the accounts core has accepted the login. CAPABILITY, NOOP, LOGOUT, ID, STARTTLS,
 * LOGIN and AUTHENTICATE PLAIN (RFC 4616, with SASL-IR RFC 4959, continuation lines and `*` to cancel)
 * and AUTHENTICATE LOGIN (draft-murchison-sasl-login: username, then password, each base64 on its own
 * line after a `+` prompt), which ends in the same verify() as LOGIN: same throttle, same attempt cap.
 */
import { type Command, astringValue } from './command-ast.js';
import type { ImapConnection } from './connection.js';
import { loginReplies } from './auth-replies.js';
import { preAuthCapabilities } from './greeting.js';
import { MAX_LOGIN_ATTEMPTS_PER_CONNECTION } from './limits.js';
import { logIn } from './login.js';
import { decideCommand } from './session-policy.js';
import { rememberClientId } from './client-id.js';

/** Credentials each connection has presented, by LOGIN or AUTHENTICATE (kept beside the rule that uses it). */
const loginAttempts = new WeakMap<ImapConnection, number>();

/** Counts a presented login; false (and the connection is closed with BYE) past the per-connection cap. */
function countLoginAttempt(conn: ImapConnection): boolean {
  const n = (loginAttempts.get(conn) ?? 0) + 1;
  loginAttempts.set(conn, n);
  if (n <= MAX_LOGIN_ATTEMPTS_PER_CONNECTION) return true;
  conn.finish(loginReplies.tooManyAttempts);
  return false;
}

/** Verifies, with the pre-login clocks stopped: the time is spent in our queue, not by the client. */
function verify(conn: ImapConnection, tag: string, username: string, secret: string): void {
  if (!countLoginAttempt(conn)) return;
  conn.pauseLoginTimers();
  logIn(conn, tag, username, secret);
}

/** AUTHENTICATE LOGIN in progress: null until the username line came. Cleared by each AUTHENTICATE. */
const saslLogin = new WeakMap<ImapConnection, { username: string | null }>();

/** The prompts of the LOGIN mechanism, base64 of "Username:" and "Password:" (as clients expect them). */
const LOGIN_USERNAME_PROMPT = `+ ${Buffer.from('Username:').toString('base64')}`;
const LOGIN_PASSWORD_PROMPT = `+ ${Buffer.from('Password:').toString('base64')}`;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Handles one parsed command before login. */
export function handlePreAuthCommand(conn: ImapConnection, command: Command): void {
  const { tag } = command;
  const verdict = decideCommand(command, { state: 'not-authenticated', restricted: false });
  if (verdict.action === 'refuse') {
    conn.refuse(tag, verdict.refusal);
    return;
  }
  switch (command.name) {
    case 'CAPABILITY':
      conn.write(`* CAPABILITY ${preAuthCapabilities(conn.preAuthState()).join(' ')}`);
      conn.reply(tag, 'OK CAPABILITY completed');
      return;
    case 'NOOP':
      conn.reply(tag, 'OK NOOP completed');
      return;
    case 'LOGOUT':
      conn.write('* BYE Logging out');
      conn.reply(tag, 'OK LOGOUT completed');
      conn.finish();
      return;
    case 'ID':
      // RFC 2971: the store gets our own ID at login; the client's name is kept for the login notice
      // and the live-session list.
      rememberClientId(conn, command);
      conn.write('* ID ("name" "Postern")');
      conn.reply(tag, 'OK ID completed');
      return;
    case 'STARTTLS':
      startTls(conn, tag);
      return;
    case 'LOGIN':
      if (!conn.preAuthState().loginAllowed) {
        conn.reply(tag, loginReplies.privacyRequired);
        return;
      }
      verify(conn, tag, astringValue(command.args[0]) ?? '', astringValue(command.args[1]) ?? '');
      return;
    case 'AUTHENTICATE':
      authenticate(conn, tag, command);
      return;
    default:
      conn.bad(tag, `${command.name} is not valid before login`);
  }
}

function startTls(conn: ImapConnection, tag: string): void {
  if (conn.secure) {
    conn.bad(tag, 'TLS is already active');
    return;
  }
  if (!conn.settings.tlsContext) {
    conn.bad(tag, 'STARTTLS is not available');
    return;
  }
  conn.reply(tag, 'OK Begin TLS negotiation now');
  conn.startTls();
}

function authenticate(conn: ImapConnection, tag: string, command: Command): void {
  const mechanism = astringValue(command.args[0])?.toUpperCase();
  saslLogin.delete(conn);
  if (mechanism !== 'PLAIN' && mechanism !== 'LOGIN') {
    conn.reply(tag, loginReplies.unsupportedMechanism);
    return;
  }
  if (!conn.preAuthState().loginAllowed) {
    conn.reply(tag, loginReplies.privacyRequired);
    return;
  }
  const initial = command.args[1];
  if (mechanism === 'LOGIN') {
    saslLogin.set(conn, { username: null });
    if (initial) {
      const text = astringValue(initial) ?? '';
      handleSaslResponse(conn, tag, Buffer.from(text === '=' ? '' : text, 'latin1'));
      return;
    }
    conn.write(LOGIN_USERNAME_PROMPT);
    conn.expectSaslResponse(tag);
    return;
  }
  if (initial) {
    // SASL-IR (RFC 4959 §3): "=" is an empty initial response.
    const text = astringValue(initial) ?? '';
    finishPlain(conn, tag, text === '=' ? '' : text);
    return;
  }
  // RFC 9051 §6.2.2: an empty challenge, then one line from the client.
  conn.write('+ ');
  conn.expectSaslResponse(tag);
}

/** The client's line after our `+`: base64 of the PLAIN message, or `*` to cancel. */
export function handleSaslResponse(conn: ImapConnection, tag: string, data: Buffer): void {
  const text = data.toString('latin1');
  const login = saslLogin.get(conn);
  if (text === '*') {
    saslLogin.delete(conn);
    conn.bad(tag, 'Authentication cancelled');
    return;
  }
  if (login) {
    stepLogin(conn, tag, login, text);
    return;
  }
  finishPlain(conn, tag, text);
}

/** One line of AUTHENTICATE LOGIN: the username (then prompt for the password), or the password. */
function stepLogin(conn: ImapConnection, tag: string, login: { username: string | null }, base64: string): void {
  if (!BASE64.test(base64)) {
    saslLogin.delete(conn);
    conn.bad(tag, 'Invalid SASL response');
    return;
  }
  const value = Buffer.from(base64, 'base64').toString('utf8');
  if (login.username === null) {
    if (value === '' || value.includes('\0')) {
      saslLogin.delete(conn);
      conn.reply(tag, loginReplies.failed);
      return;
    }
    login.username = value;
    conn.write(LOGIN_PASSWORD_PROMPT);
    conn.expectSaslResponse(tag);
    return;
  }
  saslLogin.delete(conn);
  if (value === '' || value.includes('\0')) {
    conn.reply(tag, loginReplies.failed);
    return;
  }
  verify(conn, tag, login.username, value);
}

/** RFC 4616 §2: message = [authzid] NUL authcid NUL passwd. */
function finishPlain(conn: ImapConnection, tag: string, base64: string): void {
  if (!BASE64.test(base64)) {
    conn.bad(tag, 'Invalid SASL response');
    return;
  }
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '' || parts[2] === '') {
    conn.reply(tag, loginReplies.failed);
    return;
  }
  const [authzid, authcid, password] = parts as [string, string, string];
  // Acting as someone else would need a proxy-authorization policy we do not have.
  if (authzid !== '' && authzid !== authcid) {
    conn.reply(tag, loginReplies.authzidRefused);
    return;
  }
  verify(conn, tag, authcid, password);
}
