// One workflow: its graph, source (with diagnostics; editors deploy a
// changed source from here), versions and their diff, triggers, and a form
// that starts a run from its input schema.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, get, may, post, query, sendText } from "../api";
import { diffLines } from "../diff";
import { FlowView } from "../graph";
import { go, href, route } from "../router";
import { SchemaForm } from "../schema_form";
import { ErrorBox, useAction, useLoad, when } from "../ui";
import { triggerText } from "./workflows";

type Tab = "graph" | "source" | "versions" | "start";

export function Workflow(props: { name: string }) {
  const tab = (route.value.query.get("tab") as Tab) || "graph";
  const wf = useLoad(() => get(`/api/v1/workflows/${encodeURIComponent(props.name)}`), [props.name]);
  const tabs: [Tab, string][] = [
    ["graph", "Graph"],
    ["source", "Source"],
    ["versions", "Versions"],
  ];
  if (may("operator")) tabs.push(["start", "Start a run"]);
  const w = wf.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href("workflows")}>Workflows</a> /
      </p>
      <h1>
        {props.name} {w && <span class="muted">v{w.version}</span>}
      </h1>
      {w?.description && <p class="muted">{w.description}</p>}
      <ErrorBox error={wf.error} />
      {w && <Triggers name={props.name} triggers={w.triggers ?? []} reload={wf.reload} />}
      <nav class="tabs" role="tablist">
        {tabs.map(([t, label]) => (
          <a role="tab" aria-selected={tab === t} class={tab === t ? "active" : ""} href={href("workflows", props.name, { tab: t })}>
            {label}
          </a>
        ))}
        <a href={href("runs", undefined, { workflow: props.name })}>Runs →</a>
      </nav>
      {w && tab === "graph" && w.graph && <FlowView graph={w.graph} />}
      {w && tab === "source" && <Source name={props.name} wf={w} reload={wf.reload} />}
      {w && tab === "versions" && <Versions name={props.name} versions={w.versions} />}
      {w && tab === "start" && <Start name={props.name} schema={w.input_schema} />}
    </section>
  );
}

function Triggers(props: { name: string; triggers: any[]; reload: () => void }) {
  const action = useAction();
  if (props.triggers.length === 0) return null;
  return (
    <div class="triggers">
      {props.triggers.map((t, i) => (
        <span class={`chip${t.enabled === false ? " off" : ""}`}>
          {triggerText(t)}
          {t.enabled === false && " (off)"}
          {may("editor") && t.kind !== "manual" && (
            <button
              class="link"
              disabled={action.busy}
              onClick={async () => {
                const verb = t.enabled === false ? "enable" : "disable";
                const done = await action.run(() =>
                  post(`/api/v1/workflows/${encodeURIComponent(props.name)}/triggers/${i}/${verb}`),
                );
                if (done) props.reload();
              }}
            >
              {t.enabled === false ? "switch on" : "switch off"}
            </button>
          )}
        </span>
      ))}
      <ErrorBox error={action.error} />
    </div>
  );
}

function Source(props: { name: string; wf: any; reload: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(props.wf.source as string);
  const [diagnostics, setDiagnostics] = useState<any[]>(props.wf.diagnostics ?? []);
  const [deployed, setDeployed] = useState<string>("");
  const action = useAction();
  useEffect(() => {
    setText(props.wf.source);
    setDiagnostics(props.wf.diagnostics ?? []);
  }, [props.wf]);
  const byLine = new Map<number, any[]>();
  for (const d of diagnostics) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  return (
    <div>
      {diagnostics.length > 0 && (
        <ul class="diagnostics" aria-label="Diagnostics">
          {diagnostics.map((d) => (
            <li class={d.severity}>
              <a href={`#line-${d.line}`}>
                line {d.line}:{d.column}
              </a>{" "}
              {d.severity}: {d.message}
            </li>
          ))}
        </ul>
      )}
      {deployed && <p class="ok-box" role="status">{deployed}</p>}
      <ErrorBox error={action.error} />
      {may("editor") && !editing && (
        <button onClick={() => setEditing(true)}>Edit and deploy</button>
      )}
      {editing ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setDeployed("");
            action.setError(undefined);
            try {
              const r = await sendText("POST", `/api/v1/workflows${query({ name: props.name })}`, text, "application/yaml");
              setDiagnostics(r.diagnostics ?? []);
              setDeployed(`Deployed as version ${r.version}.`);
              setEditing(false);
              props.reload();
            } catch (err) {
              if (err instanceof ApiError && Array.isArray(err.details)) setDiagnostics(err.details);
              action.setError(err);
            }
          }}
        >
          <textarea class="mono source-edit" aria-label="Workflow source" rows={30} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="row">
            <button class="primary" type="submit">
              Deploy
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <pre class="source" aria-label="Workflow source">
          {(props.wf.source as string).split("\n").map((line, i) => (
            <div id={`line-${i + 1}`} class={byLine.has(i + 1) ? `line ${byLine.get(i + 1)![0].severity}` : "line"}>
              <span class="ln">{i + 1}</span>
              {line || " "}
            </div>
          ))}
        </pre>
      )}
    </div>
  );
}

function Versions(props: { name: string; versions: any[] }) {
  const sorted = [...props.versions].sort((a, b) => b.version - a.version);
  const [a, setA] = useState<number>(sorted[1]?.version ?? sorted[0]?.version ?? 1);
  const [b, setB] = useState<number>(sorted[0]?.version ?? 1);
  const base = `/api/v1/workflows/${encodeURIComponent(props.name)}`;
  const left = useLoad(() => get(`${base}?version=${a}`), [a, props.name]);
  const right = useLoad(() => get(`${base}?version=${b}`), [b, props.name]);
  const lines = useMemo(
    () => (left.data && right.data ? diffLines(left.data.source, right.data.source) : []),
    [left.data, right.data],
  );
  const changed = lines.filter((l) => l.op !== " ").length;
  const pick = (value: number, set: (v: number) => void, label: string) => (
    <label>
      {label}{" "}
      <select value={String(value)} onChange={(e) => set(Number(e.currentTarget.value))}>
        {sorted.map((v) => (
          <option value={String(v.version)}>
            v{v.version} — {when(v.created_ms)}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div>
      <table class="list compact">
        <thead>
          <tr>
            <th>Version</th>
            <th>Deployed</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((v) => (
            <tr>
              <td>v{v.version}</td>
              <td>{when(v.created_ms)}</td>
              <td class="mono">{v.hash}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row">
        {pick(a, setA, "Compare")}
        {pick(b, setB, "with")}
        <span class="muted">{changed} changed lines</span>
      </div>
      <ErrorBox error={left.error ?? right.error} />
      <pre class="diff" aria-label="Differences">
        {lines.map((l) => (
          <div class={l.op === "+" ? "add" : l.op === "-" ? "del" : ""}>
            <span class="ln">{l.a ?? ""}</span>
            <span class="ln">{l.b ?? ""}</span>
            {l.op} {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

function Start(props: { name: string; schema: any }) {
  const action = useAction();
  const schema = props.schema ?? { type: "object", properties: {} };
  return (
    <div class="card narrow">
      <SchemaForm
        schema={schema}
        submit="Start"
        busy={action.busy}
        onSubmit={async (input) => {
          const run = await action.run(() => post("/api/v1/runs", { workflow: props.name, input }));
          if (run) go("runs", run.run_id);
        }}
      />
      <ErrorBox error={action.error} />
    </div>
  );
}
