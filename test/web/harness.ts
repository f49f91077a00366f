/**
 * Web test harness: a test context and the app, plus a tiny "browser" for app.request() — a cookie jar,
 * our Origin on every POST (as a real browser sends), and helpers to pull the CSRF token out of a page.
 */
import { createUser } from '../../src/accounts/users.js';
import { ensureCreditAccount } from '../../src/credits/accounts.js';
import { applyCreditChange } from '../../src/credits/ledger.js';
import { createWebApp } from '../../web/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

export interface WebHarness {
  ctx: TestContext;
  app: ReturnType<typeof createWebApp>;
  close(): Promise<void>;
}

export async function createWebHarness(env: Record<string, string | undefined> = {}): Promise<WebHarness> {
  const ctx = await createTestContext({ env });
  // Each test client gets its own address (see WebClient), so one test's failures do not throttle another.
  const app = createWebApp(ctx, { clientIp: (req) => req.headers.get('x-test-client-ip') ?? undefined });
  return { ctx, app, close: () => ctx.close() };
}

let nextClient = 1;

export class WebClient {
  readonly cookies = new Map<string, string>();
  readonly ip = `198.51.100.${nextClient++ % 250}`;
  constructor(
    private readonly harness: WebHarness,
    private readonly origin = new URL(harness.ctx.config.PUBLIC_URL).origin,
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(path: string, init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'x-test-client-ip': this.ip, ...init.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    const res = await this.harness.app.request(`${this.origin}${path}`, { ...init, headers });
    this.remember(res);
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  /** A form post as a same-origin page would send it. */
  post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.request(path, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...headers },
    });
  }

  /** GETs a page and returns its CSRF token. */
  async csrf(path = '/mail'): Promise<string> {
    return csrfIn(await (await this.get(path)).text());
  }

  /** Logs in with the main (or any) secret; expects success. */
  async login(username: string, secret: string): Promise<void> {
    const res = await this.post('/login', { username, password: secret });
    if (res.status !== 303 || res.headers.get('location') !== '/mail') throw new Error(`login failed: ${res.status} ${await res.text()}`);
  }

  /** Re-enters the main password (Options step-up). */
  async stepUp(password: string): Promise<Response> {
    const token = await this.csrf('/options/confirm');
    return this.post('/options/confirm', { _csrf: token, password, next: '/options/alt-logins' });
  }
}

export function csrfIn(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

export async function addUser(h: WebHarness, username: string, password: string, options: { mobile?: string } = {}) {
  return createUser(h.ctx, { username, password, mobile: options.mobile });
}

export async function grantPersonalCredits(h: WebHarness, userId: number, credits: number): Promise<void> {
  const account = await ensureCreditAccount(h.ctx.db, { userId });
  await h.ctx.db.transaction((tx) => applyCreditChange(tx, { accountId: account.id, delta: credits, kind: 'adjustment', reason: 'test' }));
}

/** Decodes the few entities hono/jsx escapes, for assertions on visible text. */
export function text(html: string): string {
  return html.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
