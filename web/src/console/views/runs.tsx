// Runs, newest first, filtered by workflow, status and trigger, updated
// live as runs start and change.
import { useState } from "preact/hooks";
import { get, query } from "../api";
import { useEvents } from "../live";
import { go, href, route } from "../router";
import { ErrorBox, Status, duration, useLoad, when } from "../ui";

const STATUSES = ["running", "suspended", "completed", "failed", "cancelled"];

export function Runs() {
  const q = route.value.query;
  const filters = { workflow: q.get("workflow") ?? "", status: q.get("status") ?? "", trigger: q.get("trigger") ?? "" };
  const key = JSON.stringify(filters);
  const [more, setMore] = useState<{ runs: any[]; cursor?: string }>({ runs: [] });
  const list = useLoad(async () => {
    setMore({ runs: [] });
    return get(`/api/v1/runs${query({ ...filters, limit: 50 })}`);
  }, [key]);
  const fits = (r: any) =>
    (!filters.workflow || r.workflow === filters.workflow) &&
    (!filters.status || r.status === filters.status) &&
    (!filters.trigger || r.trigger === filters.trigger);
  useEvents("/api/v1/events", {
    run: (r) => {
      list.setData((d: any) => {
        if (!d) return d;
        const i = d.runs.findIndex((x: any) => x.run_id === r.run_id);
        if (i >= 0) {
          const runs = [...d.runs];
          if (fits(r)) runs[i] = { ...runs[i], ...r };
          else runs.splice(i, 1);
          return { ...d, runs };
        }
        return fits(r) ? { ...d, runs: [r, ...d.runs] } : d;
      });
    },
    reset: () => list.reload(),
  });
  const runs = [...(list.data?.runs ?? []), ...more.runs];
  const cursor = more.cursor ?? list.data?.next_cursor;
  const set = (k: string, v: string) => go("runs", undefined, { ...filters, [k]: v });
  return (
    <section>
      <h1>Runs</h1>
      <form class="filters row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Workflow <input value={filters.workflow} onChange={(e) => set("workflow", e.currentTarget.value)} />
        </label>
        <label>
          Status{" "}
          <select value={filters.status} onChange={(e) => set("status", e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Trigger <input value={filters.trigger} onChange={(e) => set("trigger", e.currentTarget.value)} />
        </label>
        <span class="live-dot" title="updated live">
          live
        </span>
      </form>
      <ErrorBox error={list.error} />
      {list.data && runs.length === 0 && <p class="muted">No run matches.</p>}
      {runs.length > 0 && (
        <table class="list">
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Started</th>
              <th>Took</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr data-run={r.run_id}>
                <td class="mono">
                  <a href={href("runs", r.run_id)}>{r.run_id}</a>
                </td>
                <td>
                  {r.workflow} <span class="muted">v{r.version}</span>
                </td>
                <td>
                  <Status status={r.status} />
                  {r.waiting && <span class="muted small"> {r.waiting.kind}</span>}
                </td>
                <td>{r.trigger}</td>
                <td>{when(r.created_ms)}</td>
                <td>{r.status === "running" || r.status === "suspended" ? "" : duration(r.created_ms, r.updated_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button
          onClick={async () => {
            const page = await get(`/api/v1/runs${query({ ...filters, limit: 50, cursor })}`);
            setMore({ runs: [...more.runs, ...page.runs], cursor: page.next_cursor ?? "" });
          }}
        >
          More
        </button>
      )}
    </section>
  );
}
