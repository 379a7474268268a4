// The deployed workflows: triggers, versions, and how their recent runs went.
import { get } from "../api";
import { href } from "../router";
import { ErrorBox, useLoad } from "../ui";

const RECENT = 200;

export function triggerText(t: any): string {
  switch (t.kind) {
    case "webhook":
      return `webhook ${t.path ?? ""}`;
    case "schedule":
      return `schedule ${t.cron ?? ""}`;
    case "chat":
      return `chat ${t.channel ?? ""}`;
    case "form":
      return `form ${t.title ?? ""}`;
    case "event":
      return `event ${t.event ?? ""}`;
    default:
      return t.kind;
  }
}

export function Workflows() {
  const list = useLoad(() => get("/api/v1/workflows"), []);
  const recent = useLoad(() => get(`/api/v1/runs?limit=${RECENT}`), []);
  const counts: Record<string, Record<string, number>> = {};
  for (const r of recent.data?.runs ?? []) {
    const c = (counts[r.workflow] ??= {});
    c[r.status] = (c[r.status] ?? 0) + 1;
  }
  return (
    <section>
      <h1>Workflows</h1>
      <ErrorBox error={list.error} />
      {list.data && list.data.workflows.length === 0 && (
        <p class="muted">No workflow is deployed: put YAML files in the workflows folder, or POST one to /api/v1/workflows.</p>
      )}
      {list.data && list.data.workflows.length > 0 && (
        <table class="list">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Version</th>
              <th>Triggers</th>
              <th>
                Runs <small class="muted">(of the last {RECENT})</small>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.workflows.map((w: any) => {
              const c = counts[w.name] ?? {};
              return (
                <tr>
                  <td>
                    <a href={href("workflows", w.name)}>{w.name}</a>
                    {w.description && <div class="muted small">{w.description}</div>}
                  </td>
                  <td>
                    v{w.deployed_version ?? w.version}
                    {w.versions > 1 && <span class="muted"> ({w.versions} versions)</span>}
                  </td>
                  <td>
                    {w.triggers.map((t: any) => (
                      <span class={`chip${t.enabled === false ? " off" : ""}`}>{triggerText(t)}</span>
                    ))}
                  </td>
                  <td>
                    <a href={href("runs", undefined, { workflow: w.name })} class="counts">
                      {Object.keys(c).length === 0 && <span class="muted">none</span>}
                      {Object.entries(c).map(([status, n]) => (
                        <span class={`badge st-${status}`}>
                          {n} {status}
                        </span>
                      ))}
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
