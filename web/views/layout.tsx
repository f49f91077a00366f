/**
 * Page shells. `Page` is the logged-in frame: a top bar that always says who is logged in and how, the
 * restricted banner, the sidebar with the current place marked, and the content. `BarePage` is the
 * centered card of the login screens and error pages. Both start with a doctype: without one the browser
 * renders in quirks mode (box sizes and table fonts differ from the stylesheet's intent).
 */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { AuthMethod } from '../../src/auth/types.js';
import type { WebSession } from '../../src/auth/web-sessions.js';
import type { Viewer } from '../env.js';
import { stylesheetPath } from '../static.js';
import { buildNav, type NavItem } from './nav.js';
import { CsrfField } from './ui.js';

export const RESTRICTED_BANNER = 'Restricted login — mail cannot be deleted in this session.';

const METHOD_TEXT: Record<AuthMethod, string> = {
  main: 'your main password',
  password: 'an alternate password',
  otp: 'a one-time code',
  sms: 'an SMS password and code',
  app: 'an app password',
  totp: 'a password and an authenticator-app code',
};

/** "with a one-time code (“Wallet list”)": how this session was made, for the header. */
export function describeSession(s: Pick<WebSession, 'method' | 'loginLabel'>): string {
  const label = s.method !== 'main' && s.loginLabel ? ` (“${s.loginLabel}”)` : '';
  return `with ${METHOD_TEXT[s.method]}${label}`;
}

/** `<!DOCTYPE html>` is not an element, so JSX cannot write it; it goes in as raw text before `<html>`. */
const DOCTYPE = raw('<!DOCTYPE html>');

function Head(props: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${props.title} · Postern`}</title>
      <link rel="stylesheet" href={stylesheetPath} />
    </head>
  );
}

function isCurrent(item: NavItem, path: string): boolean {
  return path === item.href || path.startsWith(`${item.href}/`);
}

function Sidebar(props: { viewer: Viewer; path: string }) {
  const items = buildNav(props.viewer);
  return (
    <nav class="sidebar" aria-label="Main">
      <ul>
        {items.map((item) => {
          const here = isCurrent(item, props.path);
          const active = here && !item.children?.some((ch) => isCurrent(ch, props.path));
          return (
            <li>
              <a href={item.children?.[0]?.href ?? item.href} aria-current={active ? 'page' : undefined} class={here ? 'in-section' : undefined}>
                {item.label}
              </a>
              {item.children && here ? (
                <ul>
                  {item.children.map((ch) => (
                    <li>
                      <a href={ch.href} aria-current={isCurrent(ch, props.path) ? 'page' : undefined}>
                        {ch.label}
                      </a>
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export interface PageProps {
  title: string;
  viewer: Viewer;
  /** The request path, to mark where the user is in the sidebar. */
  path: string;
  children?: Child;
}

export function Page(props: PageProps) {
  const s = props.viewer.session;
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <Head title={props.title} />
        <body>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          <header class="topbar">
            <a class="brand" href="/mail">
              Postern
            </a>
            <div class="whoami">
              Signed in as <strong>{s.username}</strong> {describeSession(s)}
              {s.restricted ? <span> · restricted</span> : null}
            </div>
            <form method="post" action="/logout">
              <CsrfField token={s.csrfToken} />
              <button type="submit" class="button">
                Sign out
              </button>
            </form>
          </header>
          {s.restricted ? (
            <div class="banner banner-restricted" role="alert">
              {RESTRICTED_BANNER}
            </div>
          ) : null}
          <div class="frame">
            <Sidebar viewer={props.viewer} path={props.path} />
            <main id="main" tabindex={-1}>
              {props.children}
            </main>
          </div>
        </body>
      </html>
    </>
  );
}

export function BarePage(props: { title: string; children?: Child }) {
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <Head title={props.title} />
        <body>
          <main class="bare" id="main">
            <div class="card">
              <div class="brand-line">Postern</div>
              {props.children}
            </div>
          </main>
        </body>
      </html>
    </>
  );
}
