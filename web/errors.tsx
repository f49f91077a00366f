/**
 * One error handler for the whole app: people see a sentence and a way back, never a stack trace or SQL;
 * the log gets the code, the path and (for unexpected errors) the error itself with a reference id.
 */
import crypto from 'node:crypto';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { errorCatalogue, isPosternError } from '../src/errors.js';
import type { WebEnv } from './env.js';
import { BarePage } from './views/layout.js';

const SENTENCES: Record<number, { title: string; text: string }> = {
  400: { title: 'Bad request', text: 'The request could not be understood.' },
  401: { title: 'Session ended', text: 'Your session has ended or is not valid any more. Please log in again.' },
  403: { title: 'Not allowed', text: 'You are not allowed to do that.' },
  404: { title: 'Not found', text: 'There is nothing at this address.' },
  413: { title: 'Too large', text: 'What was sent is too large.' },
  429: { title: 'Too many requests', text: 'Too many requests. Please wait a moment and try again.' },
  500: { title: 'Something went wrong', text: 'Something went wrong on our side. Please try again.' },
  503: { title: 'Unavailable', text: 'The mail store is not reachable right now. Please try again later.' },
};

const REFUSAL_TEXT: Record<string, string> = {
  'cross-origin-form': 'This form did not come from Postern, so it was refused.',
  'csrf-token-invalid': 'This form has expired or did not come from this session. Go back, reload the page and try again.',
  'restricted-session': 'This is a restricted login: settings cannot be changed in this session.',
  'alternate-login-session': 'Options can only be used after logging in with your main password.',
  'restricted-delete': 'This is a restricted login: mail cannot be deleted in this session.',
};

export function ErrorPage(props: { status: number; text?: string; reference?: string; loggedIn: boolean }) {
  const s = SENTENCES[props.status] ?? SENTENCES[500]!;
  return (
    <BarePage title={s.title}>
      <h1>{s.title}</h1>
      <p>{props.text ?? s.text}</p>
      {props.reference ? <p class="muted">Reference: {props.reference}</p> : null}
      <p>
        {props.status === 401 || !props.loggedIn ? (
          <a class="button" href="/login">
            Go to the login page
          </a>
        ) : (
          <a class="button" href="/mail">
            Back to Postern
          </a>
        )}
      </p>
    </BarePage>
  );
}

function render(c: Context<WebEnv>, status: number, text?: string, reference?: string) {
  return c.html(<ErrorPage status={status} text={text} reference={reference} loggedIn={Boolean(c.get('viewer'))} />, status as 500);
}

export const onError: ErrorHandler<WebEnv> = (err, c) => {
  const log = c.get('ctx')?.log;
  if (err instanceof HTTPException) {
    // A refusal may carry its own sentence (the restricted rule's, src/restricted/rules.ts).
    const own = (err.cause as { text?: unknown } | undefined)?.text;
    return render(c, err.status, REFUSAL_TEXT[err.message] ?? (typeof own === 'string' ? own : undefined));
  }
  if (isPosternError(err)) {
    const status = err.code === 'FORBIDDEN' ? 403 : err.code === 'NOT_FOUND' ? 404 : err.code === 'UPSTREAM_UNAVAILABLE' ? 503 : err.code === 'INTERNAL' ? 500 : 400;
    log?.warn({ code: err.code, path: c.req.path, ...err.context }, 'request failed');
    return render(c, status, err.userMessage);
  }
  if (isDatabaseUnavailable(err)) {
    // An outage, not a bug: the person may retry shortly; a balancer reads Retry-After.
    log?.warn({ code: 'DATABASE_UNAVAILABLE', path: c.req.path }, 'database unavailable');
    c.header('Retry-After', '5');
    return render(c, 503, errorCatalogue.DATABASE_UNAVAILABLE);
  }
  const reference = crypto.randomBytes(4).toString('hex');
  log?.error({ err, code: 'INTERNAL', reference, method: c.req.method, path: c.req.path }, 'unexpected error in a web request');
  return render(c, 500, undefined, reference);
};

export const notFound: NotFoundHandler<WebEnv> = (c) => render(c, 404);
