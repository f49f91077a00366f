/** "Delete 3 messages for good?": a second form that repeats the first with confirm=1. */
import type { Viewer } from '../env.js';
import { Page } from './layout.js';
import { CsrfField } from './ui.js';

export function ConfirmPage(props: { viewer: Viewer; path: string; title: string; question: string; action: string; fields: Record<string, string | string[]>; confirmLabel: string; cancelHref: string }) {
  return (
    <Page title={props.title} viewer={props.viewer} path={props.path}>
      <h1>{props.title}</h1>
      <p>{props.question}</p>
      <form method="post" action={props.action}>
        <CsrfField token={props.viewer.session.csrfToken} />
        {Object.entries(props.fields).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => <input type="hidden" name={k} value={x} />))}
        <input type="hidden" name="confirm" value="1" />
        <div class="actions">
          <button type="submit" class="button danger">{props.confirmLabel}</button>
          <a class="button secondary" href={props.cancelHref}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}
