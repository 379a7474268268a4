// The console's calls to weft's REST API (/api/v1): JSON in and out, the
// session cookie sent by the browser, the CSRF token on every change.
import { signal } from "@preact/signals";

export type Role = "viewer" | "operator" | "editor" | "admin";

export interface Me {
  user?: string;
  key?: string;
  role: Role;
  csrf_token?: string;
  workflows?: string[];
}

// undefined: not known yet; null: signed out.
export const me = signal<Me | null | undefined>(undefined);

const ranks: Record<Role, number> = { viewer: 0, operator: 1, editor: 2, admin: 3 };

// Whether the signed-in person's role reaches `need` (the server decides;
// this only hides what would be refused).
export function may(need: Role): boolean {
  const m = me.value;
  return !!m && ranks[m.role] >= ranks[need];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body === undefined ? undefined : JSON.stringify(body), "application/json");
}

// A call whose body is text of another type (a workflow's YAML); the answer is JSON.
export function sendText<T = any>(method: string, path: string, text: string, type: string): Promise<T> {
  return request<T>(method, path, text, type);
}

async function request<T>(method: string, path: string, body: string | undefined, type: string): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = type;
  const csrf = me.value?.csrf_token;
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, { method, headers, credentials: "same-origin", body });
  const text = await r.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below
  }
  if (!r.ok) {
    const e = parsed?.error;
    if (r.status === 401 && path !== "/api/v1/session") me.value = null;
    throw new ApiError(r.status, e?.code ?? String(r.status), e?.message ?? (text || r.statusText), e?.details);
  }
  return parsed as T;
}

export const get = <T = any>(path: string) => api<T>("GET", path);
export const post = <T = any>(path: string, body: unknown = {}) => api<T>("POST", path, body);

// A query string from the defined, non-empty members of `q`.
export function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message}${e.status >= 500 ? ` (${e.code})` : ""}`;
  return e instanceof Error ? e.message : String(e);
}
