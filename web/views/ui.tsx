/** Small building blocks shared by every page: form fields, notices, the CSRF field, POST buttons. */
import type { Child } from 'hono/jsx';

/** The per-session CSRF token; every state-changing form carries it. */
export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function Notice(props: { kind: 'error' | 'info' | 'ok' | 'warn'; children: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export interface FieldProps {
  label: string;
  name: string;
  type?: 'text' | 'password' | 'email' | 'tel' | 'number';
  value?: string;
  error?: string | null;
  hint?: string;
  autocomplete?: string;
  required?: boolean;
  autofocus?: boolean;
  inputmode?: 'numeric' | 'text' | 'tel' | 'email';
  class?: string;
  maxlength?: number;
  /** When two forms on one page share field names, their ids must differ. */
  id?: string;
  min?: number;
  max?: number;
  pattern?: string;
}

/** A labelled input with its hint and, when invalid, the error under it (linked by aria-describedby). */
export function Field(p: FieldProps) {
  const id = p.id ?? `f-${p.name}`;
  return (
    <div>
      <label for={id}>
        {p.label}
        {p.hint ? <span class="hint">{p.hint}</span> : null}
      </label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value}
        autocomplete={p.autocomplete}
        required={p.required}
        autofocus={p.autofocus}
        inputmode={p.inputmode}
        class={p.class}
        maxlength={p.maxlength}
        min={p.min}
        max={p.max}
        pattern={p.pattern}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={p.error ? `${id}-error` : undefined}
      />
      {p.error ? (
        <p class="field-error" id={`${id}-error`}>
          {p.error}
        </p>
      ) : null}
    </div>
  );
}

/** A one-button form (revoke, delete, sign out …): a POST with the CSRF token and a few hidden fields. */
export function PostButton(p: {
  action: string;
  csrf: string;
  label: string;
  variant?: 'primary' | 'secondary' | 'danger';
  fields?: Record<string, string | number>;
  title?: string;
  /** The button's accessible name when its label alone is ambiguous ("Revoke SMS password “Phone”"). */
  ariaLabel?: string;
}) {
  return (
    <form method="post" action={p.action} class="inline">
      <CsrfField token={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={String(v)} />
      ))}
      <button type="submit" class={`button ${p.variant === 'primary' ? '' : (p.variant ?? 'secondary')}`} title={p.title} aria-label={p.ariaLabel}>
        {p.label}
      </button>
    </form>
  );
}

/** "2025-03-01 14:32 UTC": the server does not know the kiosk's time zone, so it says which one it uses. */
export function formatTime(d: Date | null | undefined): string {
  if (!d) return '—';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function Time(props: { at: Date | null | undefined }) {
  return props.at ? <time datetime={props.at.toISOString()}>{formatTime(props.at)}</time> : <span class="muted">never</span>;
}

/** "in 9 minutes", "in 40 seconds". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}
