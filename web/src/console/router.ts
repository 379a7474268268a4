// Hash routes: #/workflows, #/workflows/<name>, #/runs?workflow=,
// #/runs/<id>, #/inbox, #/usage. The page never reloads; the back button
// works.
import { signal } from "@preact/signals";

export interface Route {
  view: string;
  arg: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, "");
  const [path = "", q = ""] = h.split("?", 2);
  const [view = "", ...rest] = path.split("/");
  return { view: view || "workflows", arg: rest.map(decodeURIComponent).join("/"), query: new URLSearchParams(q) };
}

export const route = signal<Route>(parseRoute(typeof location === "undefined" ? "" : location.hash));

if (typeof window !== "undefined") {
  window.addEventListener("hashchange", () => (route.value = parseRoute(location.hash)));
}

export function href(view: string, arg?: string, q?: Record<string, string>): string {
  let h = `#/${view}`;
  if (arg) h += `/${encodeURIComponent(arg)}`;
  const s = q ? new URLSearchParams(Object.entries(q).filter(([, v]) => v)).toString() : "";
  return s ? `${h}?${s}` : h;
}

export function go(view: string, arg?: string, q?: Record<string, string>) {
  location.hash = href(view, arg, q);
}
