/**
 * A web harness whose webmail store pool the test can see (how many connections, close them under the
 * app), plus a user with a full and a restricted login and their own mailbox at the test Dovecot.
 */
import { createUserChosenLogin } from '../../../src/accounts/alt-logins.js';
import { createWebApp } from '../../../web/app.js';
import { createStorePool, type StorePool } from '../../../web/mail/store-pool.js';
import { addUser, createWebHarness, WebClient, type WebHarness } from '../harness.js';

export interface MailHarness extends WebHarness {
  pool: StorePool;
  mailbox: string;
  userId: number;
  full(): Promise<WebClient>;
  restricted(): Promise<WebClient>;
}

export const FULL_PASSWORD = 'main password 1';
export const KIOSK_PASSWORD = 'kiosk password 1';

let n = 0;

export async function createMailHarness(env: Record<string, string | undefined> = {}): Promise<MailHarness> {
  const base = await createWebHarness(env);
  const pool = createStorePool(base.ctx);
  const app = createWebApp(base.ctx, { clientIp: (req) => req.headers.get('x-test-client-ip') ?? undefined, mailStore: pool });
  const mailbox = `webmail-${process.pid}-${Date.now()}-${n++}`;
  const userId = (await addUser(base, mailbox, FULL_PASSWORD)).id;
  await createUserChosenLogin(base.ctx, { userId, kind: 'password', secret: KIOSK_PASSWORD, restricted: true, label: 'kiosk' });
  const h: MailHarness = {
    ...base,
    app,
    pool,
    mailbox,
    userId,
    async full() {
      const c = new WebClient(h);
      await c.login(mailbox, FULL_PASSWORD);
      return c;
    },
    async restricted() {
      const c = new WebClient(h);
      await c.login(mailbox, KIOSK_PASSWORD);
      return c;
    },
    async close() {
      await pool.closeAll();
      await base.close();
    },
  };
  return h;
}
