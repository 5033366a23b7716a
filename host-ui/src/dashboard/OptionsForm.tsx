import { useId } from 'react';
import type { JsonSchema } from '../lib/plugins.ts';

/**
 * The settings editor, rendered from the widget's declared options schema: strings,
 * enums (select), numbers, booleans, arrays of enum values (checkboxes) and nested
 * objects (fieldsets). Anything the form cannot render is left as it is.
 */

/** `lowScore`, `error_rate_24h` → "Low score", "Error rate 24h": schemas often have no titles. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([a-z])(\d)/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
export function OptionsForm({ schema, value, onChange, legend = 'Widget options' }: {
  schema: JsonSchema | undefined;
  value: Record<string, unknown>;
  onChange(next: Record<string, unknown>): void;
  legend?: string;
}) {
  const props = Object.entries(schema?.properties ?? {});
  if (!props.length) return null;
  return (
    <fieldset className="options-form">
      <legend>{legend}</legend>
      {props.map(([key, p]) => (
        <OptionField key={key} name={key} schema={p} value={value[key]} required={schema?.required?.includes(key) ?? false}
          onChange={(v) => onChange({ ...value, [key]: v })} />
      ))}
    </fieldset>
  );
}

function OptionField({ name, schema, value, required, onChange }: { name: string; schema: JsonSchema; value: unknown; required: boolean; onChange(v: unknown): void }) {
  const id = useId();
  const label = schema.title ?? humanize(name);
  const help = schema.description ? <small id={`${id}-help`} className="muted">{schema.description}</small> : null;
  const describedBy = schema.description ? `${id}-help` : undefined;
  const choices = schema.oneOf?.map((o) => ({ value: o.const, label: o.title ?? String(o.const) }))
    ?? schema.enum?.map((v, i) => ({ value: v, label: schema.enumNames?.[i] ?? humanize(String(v)) }));
  const range = schema.minimum !== undefined && schema.maximum !== undefined ? ` (${schema.minimum}–${schema.maximum})` : '';

  if (schema.type === 'object' && schema.properties) {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    return (
      <fieldset className="field field--group">
        <legend>{label}</legend>
        {schema.description && <small className="muted">{schema.description}</small>}
        {Object.entries(schema.properties).map(([k, p]) => (
          <OptionField key={k} name={k} schema={p} value={obj[k]} required={schema.required?.includes(k) ?? false}
            onChange={(v) => onChange({ ...obj, [k]: v })} />
        ))}
      </fieldset>
    );
  }

  if (schema.type === 'boolean') {
    return (
      <div className="field field--check">
        <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
        <label htmlFor={id}>{label}</label>
        {help}
      </div>
    );
  }
  if (schema.type === 'array' && (schema.items?.enum || schema.items?.oneOf)) {
    const opts = schema.items.oneOf?.map((o) => ({ value: o.const, label: o.title ?? String(o.const) }))
      ?? schema.items.enum!.map((v, i) => ({ value: v, label: schema.items!.enumNames?.[i] ?? humanize(String(v)) }));
    const arr = Array.isArray(value) ? value : [];
    return (
      <fieldset className="field">
        <legend>{label}</legend>
        {opts.map((o) => (
          <label key={String(o.value)} className="check">
            <input type="checkbox" checked={arr.includes(o.value)}
              onChange={(e) => onChange(e.target.checked ? [...arr, o.value] : arr.filter((x) => x !== o.value))} />
            {o.label}
          </label>
        ))}
        {help}
      </fieldset>
    );
  }
  if (choices) {
    const idx = choices.findIndex((c) => c.value === value);
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <select id={id} value={idx < 0 ? '' : String(idx)} required={required} aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value === '' ? undefined : choices[Number(e.target.value)]!.value)}>
          {!required && <option value="">—</option>}
          {choices.map((c, i) => <option key={i} value={i}>{c.label}</option>)}
        </select>
        {help}
      </div>
    );
  }
  if (schema.type === 'number' || schema.type === 'integer') {
    return (
      <div className="field">
        <label htmlFor={id}>{label}{range && <span className="muted small">{range}</span>}</label>
        <input id={id} type="number" value={typeof value === 'number' ? value : ''} min={schema.minimum} max={schema.maximum}
          step={schema.type === 'integer' ? 1 : 'any'} required={required} aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />
        {help}
      </div>
    );
  }
  if (schema.type === 'string' || !schema.type) {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input id={id} type={schema.format === 'email' ? 'email' : 'text'} value={typeof value === 'string' ? value : ''} required={required}
          aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
        {help}
      </div>
    );
  }
  return null;
}
