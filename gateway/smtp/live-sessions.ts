/**
 * Authenticated submission sessions in the live-session registry (src/sessions/): revoking the login,
 * disabling the user or changing the password ends them — the client gets `421 4.7.0 <reason>` and the
 * connection closes; a message being sent at that moment is not relayed (the whole message is read
 * before src/submission relays it, and a closed connection never reaches that point).
 */
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import type { AuthSuccess } from '../../src/auth/types.js';
import { clientName } from '../../src/client-name.js';
import type { AppContext } from '../../src/context.js';
import type { LiveHandle } from '../../src/sessions/types.js';

type Session = SMTPServerSession & { user?: AuthSuccess };

/**
 * The client's EHLO/HELO name (RFC 5321 §4.1.1.1), made fit to print as IMAP's ID name is: what the login
 * notice and Options → Security call an SMTP client. smtp-server keeps the latest greeting's name.
 */
export function smtpClientName(session: Pick<SMTPServerSession, 'hostNameAppearsAs'>): string | undefined {
  return clientName(session.hostNameAppearsAs || null) ?? undefined;
}

/** `servers`: the listeners (STARTTLS and implicit TLS) whose connections the sessions are on. */
export function trackSmtpSessions(ctx: AppContext, servers: () => readonly SMTPServer[]) {
  const handles = new Map<string, LiveHandle>();
  const connectionOf = (session: Session) =>
    servers().flatMap((server) => [...server.connections]).find((c) => c.id === session.id) ?? null;
  return {
    /**
     * AUTH succeeded: registers the session (unless the client left meanwhile: nothing would unregister
     * it). Resolves to false when a change that raced the login already ended it: answer nothing then.
     */
    async started(session: Session, result: AuthSuccess, authStartedAt: Date): Promise<boolean> {
      if (!connectionOf(session)) return false;
      handles.get(session.id)?.unregister();
      const handle = ctx.liveSessions.register(
        {
          protocol: 'smtp',
          userId: result.userId,
          loginId: result.loginId,
          loginKind: result.method,
          restricted: result.restricted,
          clientIp: session.remoteAddress,
          client: smtpClientName(session),
          startedAt: new Date(),
          authStartedAt,
          validUntil: result.validUntil,
          passwordChangedAt: result.passwordChangedAt,
        },
        (reason) => {
          handles.delete(session.id);
          // Whatever the client sends before the close is refused as unauthenticated.
          session.user = undefined;
          const conn = connectionOf(session);
          conn?.send(421, `4.7.0 ${reason.replace(/[^\x20-\x7e]/g, '')}`);
          conn?.close();
        },
      );
      handles.set(session.id, handle);
      return handle.checked;
    },
    /** A transaction began (MAIL FROM): "last active", and the name of an EHLO sent after AUTH. */
    touched(session: Session): void {
      const handle = handles.get(session.id);
      if (!handle) return;
      handle.touch();
      const name = smtpClientName(session);
      if (name) handle.nameClient(name);
    },
    closed(session: Session): void {
      handles.get(session.id)?.unregister();
      handles.delete(session.id);
    },
  };
}
