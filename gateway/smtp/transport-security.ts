/**
 * When a client may send a password. The rule mirrors the IMAP gateway's LOGINDISABLED rule: in the
 * clear only over loopback (the machine talking to itself, e.g. the demo or a local webmail); anywhere
 * else only after STARTTLS. "Loopback" is the address the connection arrived on, so a listener bound to
 * 0.0.0.0 still refuses plaintext AUTH from the network while accepting it from 127.0.0.1.
 */

/**
 * The commands switched off for one connection in its current state. Hiding AUTH (rather than answering
 * it with an error) keeps it out of the EHLO reply, so a well-behaved client upgrades with STARTTLS
 * before it ever sends a password; smtp-server then answers a blind AUTH as an unknown command.
 */
export function disabledCommandsFor(state: { tlsAvailable: boolean; secure: boolean; plaintextAllowed: boolean }): string[] {
  const disabled: string[] = [];
  if (!state.tlsAvailable) disabled.push('STARTTLS');
  if (!state.secure && !state.plaintextAllowed) disabled.push('AUTH');
  return disabled;
}
