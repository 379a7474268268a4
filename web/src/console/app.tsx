// The console's frame: who is signed in, the navigation, and the view the
// address names. Every view shows only what the role may see; the server
// refuses the rest anyway.
import { useEffect } from "preact/hooks";
import { api, get, me } from "./api";
import { useEvents } from "./live";
import { href, route } from "./router";
import { useLoad } from "./ui";
import { Inbox } from "./views/inbox";
import { Run } from "./views/run";
import { Runs } from "./views/runs";
import { SignIn } from "./views/signin";
import { Usage } from "./views/usage";
import { Workflow } from "./views/workflow";
import { Workflows } from "./views/workflows";

export function App() {
  useEffect(() => {
    get("/api/v1/session").then(
      (m) => (me.value = m),
      () => (me.value = null),
    );
  }, []);
  if (me.value === undefined) return <p class="loading">Loading…</p>;
  if (me.value === null) return <SignIn />;
  return <Shell />;
}

function Shell() {
  const r = route.value;
  const tasks = useLoad(() => get("/api/v1/tasks?limit=100"), []);
  useEvents("/api/v1/events", { task: () => tasks.reload(), run: (e) => e.status !== "running" && tasks.reload() });
  const waiting = tasks.data?.tasks?.length ?? 0;
  const nav: [string, string][] = [
    ["workflows", "Workflows"],
    ["runs", "Runs"],
    ["inbox", "Inbox"],
    ["usage", "Usage"],
  ];
  let view;
  switch (r.view) {
    case "workflows":
      view = r.arg ? <Workflow name={r.arg} /> : <Workflows />;
      break;
    case "runs":
      view = r.arg ? <Run id={r.arg} /> : <Runs />;
      break;
    case "inbox":
      view = <Inbox />;
      break;
    case "usage":
      view = <Usage />;
      break;
    default:
      view = <p>Nothing here. <a href={href("workflows")}>Workflows</a></p>;
  }
  const m = me.value!;
  return (
    <>
      <header class="top">
        <a class="brand" href={href("workflows")}>
          weft
        </a>
        <nav aria-label="Console">
          {nav.map(([v, label]) => (
            <a href={href(v)} class={r.view === v ? "active" : ""} aria-current={r.view === v ? "page" : undefined}>
              {label}
              {v === "inbox" && waiting > 0 && (
                <span class="count" aria-label={`${waiting} waiting`}>
                  {waiting}
                </span>
              )}
            </a>
          ))}
        </nav>
        <span class="who">
          {m.user ?? `key ${m.key}`} <span class="muted">({m.role})</span>
          {m.user && (
            <button
              class="link"
              onClick={async () => {
                await api("DELETE", "/api/v1/session").catch(() => undefined);
                me.value = null;
              }}
            >
              Sign out
            </button>
          )}
        </span>
      </header>
      <main class="content">{view}</main>
    </>
  );
}
