import { useEffect, useState } from 'react';

// A form drawn from the API's JSON Schema of one directory entry (GET /admin/schema/{entity}): one
// input per option, its kind from the schema, its default as placeholder, its description as help.
// Nothing is decided here: an option left at its default is left out and the server applies it;
// the server's 400 issues are shown next to the option they name.

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}
export type Values = Record<string, unknown>;
/** Server messages by option path ("retry_delays.busy"). */
export type FieldErrors = Record<string, string>;

export function SchemaForm({ schema, skip, values, onChange, errors }: { schema: JsonSchema; skip: string; values: Values; onChange: (v: Values) => void; errors: FieldErrors }) {
  const props = Object.entries(schema.properties ?? {}).filter(([k]) => k !== skip);
  return (
    <div className="schema-form">
      {props.map(([k, s]) => (
        <Field key={k} name={k} path={k} schema={s} required={schema.required?.includes(k) ?? false} value={values[k]} onChange={(v) => onChange(set(values, k, v))} errors={errors} />
      ))}
    </div>
  );
}

const set = (o: Values, k: string, v: unknown): Values => {
  const n = { ...o };
  if (v === undefined) delete n[k];
  else n[k] = v;
  return n;
};
const kindOf = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
  errors: FieldErrors;
}

function Field(p: FieldProps) {
  const { name, path, schema: s, value, errors } = p;
  const id = `opt-${path}`;
  const err = errors[path];
  const hasDefault = s.default !== undefined;
  const help = [s.description, hasDefault ? `default: ${show(s.default)}` : p.required ? 'required' : 'optional'].filter(Boolean).join(' — ');
  if (kindOf(s) === 'object' && s.properties) {
    const v = (value ?? {}) as Values;
    return (
      <fieldset aria-label={name}>
        <legend>{name}</legend>
        {Object.entries(s.properties).map(([k, c]) => (
          <Field key={k} name={k} path={`${path}.${k}`} schema={c} required={s.required?.includes(k) ?? false} value={v[k]} onChange={(x) => p.onChange(nonEmpty(set(v, k, x)))} errors={errors} />
        ))}
        {err && <Err id={`${id}-error`} text={err} />}
      </fieldset>
    );
  }
  return (
    <div className={err ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{name}</label>
      <Input id={id} {...p} />
      {value !== undefined && hasDefault && (
        <button type="button" className="link" aria-label={`Reset ${path} to default`} onClick={() => p.onChange(undefined)}>
          reset
        </button>
      )}
      <small id={`${id}-help`}>{help}</small>
      {err && <Err id={`${id}-error`} text={err} />}
    </div>
  );
}

const nonEmpty = (o: Values) => (Object.keys(o).length ? o : undefined);

function Err({ id, text }: { id: string; text: string }) {
  return (
    <span id={id} role="alert" className="error">
      {text}
    </span>
  );
}

function Input({ id, path, schema: s, value, onChange, errors }: FieldProps & { id: string }) {
  const described = `${id}-help${errors[path] ? ` ${id}-error` : ''}`;
  const common = { id, 'aria-describedby': described, 'aria-invalid': errors[path] ? true : undefined };
  const kind = kindOf(s);
  if (s.enum) {
    return (
      <select {...common} value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
        <option value="">{s.default !== undefined ? `(default: ${show(s.default)})` : '(not set)'}</option>
        {s.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  }
  if (kind === 'boolean') {
    return <input {...common} type="checkbox" checked={Boolean(value ?? s.default)} onChange={(e) => onChange(e.target.checked)} />;
  }
  if (kind === 'integer' || kind === 'number') {
    return (
      <input
        {...common}
        type="number"
        min={s.minimum ?? s.exclusiveMinimum}
        max={s.maximum ?? s.exclusiveMaximum}
        step={kind === 'integer' ? 1 : 'any'}
        placeholder={s.default !== undefined ? String(s.default) : ''}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
    );
  }
  if (kind === 'string') {
    return <input {...common} value={value === undefined ? '' : String(value)} placeholder={s.default !== undefined ? String(s.default) : ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />;
  }
  return <JsonInput common={common} value={value} placeholder={s.default !== undefined ? JSON.stringify(s.default) : ''} onChange={onChange} />;
}

const same = (text: string, value: unknown) => {
  try {
    return JSON.stringify(text.trim() === '' ? undefined : JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
};

/** Arrays, records and unions (calling_windows, holidays, phones, trunk): a JSON field for that one option. */
function JsonInput({ common, value, placeholder, onChange }: { common: Record<string, unknown>; value: unknown; placeholder: string; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value));
  const [bad, setBad] = useState(false);
  // Follow a value set from outside (Edit, reset), but not the echo of what is being typed.
  useEffect(() => setText((t) => (same(t, value) ? t : value === undefined ? '' : JSON.stringify(value))), [value]);
  return (
    <>
      <textarea
        {...common}
        rows={2}
        cols={40}
        placeholder={placeholder}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') return (setBad(false), onChange(undefined));
          try {
            onChange(JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true); // kept as typed until it reads as JSON
          }
        }}
      />
      {bad && <span className="error">not JSON yet</span>}
    </>
  );
}
