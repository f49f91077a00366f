/**
 * hono/jsx keeps an AsyncLocalStorage so that useContext() still works after an `await` inside an async
 * component. Postern's components never await (each route loads what it shows first, then renders), so the
 * storage buys nothing here, and on Node.js 20 the first AsyncLocalStorage.run() turns on promise hooks for
 * the whole process: from the first page rendered, every `await` — in the web front, the IMAP gateway and
 * SMTP listener sharing the process, imapflow and the database driver — costs about 2.5 times as much.
 * patches/hono+4.13.19.patch adds the switch this sets; contexts still work in synchronous components.
 * HONO_JSX_ASYNC_LOCAL_STORAGE=on in the environment keeps hono's default (to measure the difference).
 */
export function renderWithoutAsyncContext(): void {
  process.env.HONO_JSX_ASYNC_LOCAL_STORAGE ??= 'off';
}
