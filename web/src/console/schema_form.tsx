// A form generated from a JSON Schema object (a workflow's input schema, a
// task's payload schema): a field per property, typed inputs for strings,
// numbers, booleans and enums, JSON text for the rest. What is typed is
// checked here first; the server checks it again against the schema.
import { useState } from "preact/hooks";

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  title?: string;
}

export type Raw = Record<string, string | boolean>;

function kind(s: Schema): "string" | "number" | "integer" | "boolean" | "enum" | "json" {
  if (s.enum) return "enum";
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (t === "string" || t === "number" || t === "integer" || t === "boolean") return t;
  return "json";
}

// The starting text of each field: the given values, else the defaults.
export function initialRaw(schema: Schema, values?: Record<string, unknown>): Raw {
  const raw: Raw = {};
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const v = values?.[name] ?? s.default;
    const k = kind(s);
    if (k === "boolean") raw[name] = v === true;
    else if (v === undefined) raw[name] = "";
    else if (k === "json") raw[name] = JSON.stringify(v, null, 2);
    else raw[name] = String(v);
  }
  return raw;
}

// The object the fields make, or what is wrong with each field. Empty
// optional fields are left out.
export function formValue(schema: Schema, raw: Raw): { value: Record<string, unknown>; errors: Record<string, string> } {
  const value: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const required = new Set(schema.required ?? []);
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const r = raw[name];
    const k = kind(s);
    if (k === "boolean") {
      value[name] = r === true;
      continue;
    }
    const text = typeof r === "string" ? r : "";
    if (text.trim() === "") {
      if (required.has(name)) errors[name] = "required";
      continue;
    }
    if (k === "number" || k === "integer") {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[name] = "not a number";
      else if (k === "integer" && !Number.isInteger(n)) errors[name] = "not a whole number";
      else value[name] = n;
    } else if (k === "enum") {
      const match = s.enum!.find((e) => String(e) === text);
      if (match === undefined) errors[name] = `one of ${s.enum!.map(String).join(", ")}`;
      else value[name] = match;
    } else if (k === "json") {
      try {
        value[name] = JSON.parse(text);
      } catch {
        errors[name] = "not valid JSON";
      }
    } else {
      value[name] = text;
    }
  }
  return { value, errors };
}

export function SchemaForm(props: {
  schema: Schema;
  values?: Record<string, unknown>;
  submit: string;
  busy?: boolean;
  onSubmit: (value: Record<string, unknown>) => void;
  children?: preact.ComponentChildren;
}) {
  const [raw, setRaw] = useState<Raw>(() => initialRaw(props.schema, props.values));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const required = new Set(props.schema.required ?? []);
  const set = (name: string, v: string | boolean) => setRaw({ ...raw, [name]: v });
  const entries = Object.entries(props.schema.properties ?? {});
  return (
    <form
      class="schema-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = formValue(props.schema, raw);
        setErrors(r.errors);
        if (Object.keys(r.errors).length === 0) props.onSubmit(r.value);
      }}
    >
      {entries.length === 0 && <p class="muted">No fields.</p>}
      {entries.map(([name, s]) => {
        const k = kind(s);
        const id = `f-${name}`;
        const err = errors[name];
        const label = (
          <label for={id}>
            {s.title ?? name}
            {required.has(name) && <span aria-hidden="true"> *</span>}
          </label>
        );
        const common = {
          id,
          name,
          "aria-invalid": err ? true : undefined,
          "aria-describedby": err || s.description ? `${id}-help` : undefined,
          required: required.has(name) && k !== "boolean",
        };
        let input;
        if (k === "boolean") {
          input = (
            <input
              type="checkbox"
              {...common}
              checked={raw[name] === true}
              onChange={(e) => set(name, (e.target as HTMLInputElement).checked)}
            />
          );
        } else if (k === "enum") {
          input = (
            <select {...common} value={String(raw[name] ?? "")} onChange={(e) => set(name, (e.target as HTMLSelectElement).value)}>
              <option value="">—</option>
              {s.enum!.map((o) => (
                <option value={String(o)}>{String(o)}</option>
              ))}
            </select>
          );
        } else if (k === "json" || (k === "string" && String(raw[name] ?? "").length > 60)) {
          input = (
            <textarea
              {...common}
              rows={k === "json" ? 4 : 3}
              class={k === "json" ? "mono" : ""}
              value={String(raw[name] ?? "")}
              onInput={(e) => set(name, (e.target as HTMLTextAreaElement).value)}
            />
          );
        } else {
          input = (
            <input
              type={(k === "string" ? "text" : "number") as "text"}
              step={k === "number" ? "any" : undefined}
              {...common}
              value={String(raw[name] ?? "")}
              onInput={(e) => set(name, (e.target as HTMLInputElement).value)}
            />
          );
        }
        return (
          <div class={`field${k === "boolean" ? " inline" : ""}`}>
            {label}
            {input}
            {(err || s.description) && (
              <small id={`${id}-help`} class={err ? "error" : "muted"}>
                {err ?? s.description}
              </small>
            )}
          </div>
        );
      })}
      {props.children}
      <button type="submit" class="primary" disabled={props.busy}>
        {props.submit}
      </button>
    </form>
  );
}
