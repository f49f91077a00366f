/**
 * What the gateway says about itself before login: the greeting and the pre-authentication capability
 * list. Before login the client talks to the gateway alone (nothing reaches the store), so this list
 * describes the gateway, not upstream; after login the client gets the store's filtered list.
 */

export interface PreAuthState {
  /** The connection is already encrypted (implicit TLS, or after STARTTLS). */
  secure: boolean;
  /** STARTTLS can be offered: TLS is configured and not yet active. */
  tlsAvailable: boolean;
  /** Passwords may be sent on this connection now (encrypted, or the local address is loopback). */
  loginAllowed: boolean;
}

/**
 * Capabilities before login. LITERAL- because the command reader takes `{n+}` only up to 4096 bytes
 * (RFC 7888 §5). Without encryption on a network address: LOGINDISABLED and no AUTH= (RFC 9051
 * §6.2.3, §7.2.2), so a well-behaved client upgrades before it sends a password.
 */
export function preAuthCapabilities(state: PreAuthState): string[] {
  const caps = ['IMAP4rev1', 'LITERAL-', 'ID'];
  if (state.tlsAvailable && !state.secure) caps.push('STARTTLS');
  if (state.loginAllowed) caps.push('SASL-IR', 'AUTH=PLAIN', 'AUTH=LOGIN');
  else caps.push('LOGINDISABLED');
  return caps;
}

/** The untagged OK greeting with the capability code (RFC 9051 §7.1.1), so clients need no CAPABILITY round trip. */
export function greetingLine(state: PreAuthState): string {
  return `* OK [CAPABILITY ${preAuthCapabilities(state).join(' ')}] Postern IMAP gateway ready`;
}
