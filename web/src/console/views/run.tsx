// One run as it happens: the workflow's graph with each step's state, the
// steps with what went in and came out (model, prompt, tokens, cost,
// attempts, errors, timing), and what an operator may do with it.
import { useMemo, useState } from "preact/hooks";
import { get, may, post } from "../api";
import { FlowView, nodeOf } from "../graph";
import { useEvents } from "../live";
import { href } from "../router";
import { ErrorBox, Json, Status, duration, useAction, useLoad, when } from "../ui";

export function Run(props: { id: string }) {
  const base = `/api/v1/runs/${encodeURIComponent(props.id)}`;
  const run = useLoad(() => get(base), [props.id]);
  const r = run.data;
  const wf = useLoad(
    () => (r ? get(`/api/v1/workflows/${encodeURIComponent(r.workflow)}?version=${r.version}`) : Promise.resolve(undefined)),
    [r?.workflow, r?.version],
  );
  const [selected, setSelected] = useState<string | undefined>(undefined);
  useEvents(base + "/events", {
    snapshot: (snap) => run.setData((d: any) => ({ ...snap, steps: snap.steps ?? d?.steps ?? [] })),
    // An event kept as its outline (too large to keep whole for a client
    // that reconnects, or relayed from another server) says "truncated":
    // the run is read again instead.
    run: (next) =>
      next.truncated ? run.reload() : run.setData((d: any) => (d ? { ...d, ...next, steps: d.steps } : d)),
    step: (step) =>
      step.truncated ? run.reload() : run.setData((d: any) => {
        if (!d) return d;
        const steps = (d.steps ?? []).filter((s: any) => s.seq !== step.seq);
        steps.push(step);
        steps.sort((a: any, b: any) => a.seq - b.seq);
        return { ...d, steps };
      }),
    reset: () => run.reload(),
  });
  const states = useMemo(() => {
    // A node's state is its latest record's; its count, how many times it
    // ran (loop iterations: distinct paths).
    const out: Record<string, { status: string; count: number }> = {};
    const paths: Record<string, Set<string>> = {};
    for (const s of r?.steps ?? []) {
      const id = nodeOf(s.path);
      (paths[id] ??= new Set()).add(s.path);
      out[id] = { status: s.status, count: paths[id]!.size };
    }
    return out;
  }, [r?.steps]);
  const shown = (r?.steps ?? []).filter((s: any) => !selected || nodeOf(s.path) === selected);
  return (
    <section>
      <p class="crumbs">
        <a href={href("runs")}>Runs</a> /
      </p>
      <h1 class="mono">{props.id}</h1>
      <ErrorBox error={run.error} />
      {r && (
        <>
          <div class="run-head">
            <Status status={r.status} />
            <span>
              <a href={href("workflows", r.workflow)}>{r.workflow}</a> v{r.version}
            </span>
            <span class="muted">trigger {r.trigger}</span>
            <span class="muted">started {when(r.created_ms)}</span>
            {r.status !== "running" && r.status !== "suspended" && <span class="muted">took {duration(r.created_ms, r.updated_ms)}</span>}
            <Controls run={r} reload={run.reload} />
          </div>
          {r.waiting && (
            <p class="waiting">
              Waiting for {r.waiting.kind.replace("_", " ")} at <b>{r.waiting.task}</b>
              {["approval", "user_input", "handover"].includes(r.waiting.kind) && (
                <>
                  {" "}
                  — <a href={href("inbox", undefined, { task: r.run_id })}>open in the inbox</a>
                </>
              )}
            </p>
          )}
          {r.error && <p class="error-box">{r.error.code}: {r.error.message}</p>}
          <div class="run-body">
            <div class="run-graph">
              {wf.data?.graph && <FlowView graph={wf.data.graph} states={states} selected={selected} onSelect={(id) => setSelected(id === selected ? undefined : id)} />}
            </div>
            <div class="run-steps">
              <h2>
                Steps {selected && <button class="link" onClick={() => setSelected(undefined)}>show all</button>}
              </h2>
              {shown.length === 0 && <p class="muted">No step yet.</p>}
              {shown.map((s: any) => (
                <Step step={s} />
              ))}
              <details>
                <summary>Input and outputs</summary>
                <h3>Input</h3>
                <Json value={r.input} />
                {r.outputs !== undefined && (
                  <>
                    <h3>Outputs</h3>
                    <Json value={r.outputs} />
                  </>
                )}
              </details>
            </div>
          </div>
        </>
      )}
    </section>
  );
}

function Step(props: { step: any }) {
  const s = props.step;
  const d = s.detail ?? {};
  const tokens = d.tokens;
  return (
    <details class={`step st-${s.status}`} open={s.status === "failed"} data-path={s.path}>
      <summary>
        <Status status={s.status} /> <b>{s.task}</b> <span class="muted">{s.action}</span>
        {s.attempt > 1 && <span class="muted"> attempt {s.attempt}</span>}
        <span class="muted right">{duration(s.started_ms, s.ended_ms)}</span>
      </summary>
      <dl class="facts">
        <dt>Path</dt>
        <dd class="mono">{s.path}</dd>
        <dt>When</dt>
        <dd>
          {when(s.started_ms)}
          {s.ended_ms ? ` → ${when(s.ended_ms)}` : ""}
        </dd>
        {d.alias && (
          <>
            <dt>Model</dt>
            <dd>
              {d.alias} ({d.provider}
              {d.model ? ` ${d.model}` : ""}){d.answered_by ? `, answered by ${d.answered_by}` : ""}
              {d.cache ? `, cache ${d.cache}` : ""}
            </dd>
          </>
        )}
        {tokens && (
          <>
            <dt>Tokens</dt>
            <dd>
              {tokens.input} in, {tokens.output} out{d.cost !== undefined ? `, cost ${Number(d.cost).toFixed(4)}` : ""}
              {d.latency_ms ? `, ${d.latency_ms} ms` : ""}
            </dd>
          </>
        )}
      </dl>
      {s.error && (
        <p class="error-box">
          {s.error.code}: {s.error.message}
        </p>
      )}
      <h4>Input</h4>
      <Json value={s.input} label="Step input" />
      {s.output !== undefined && (
        <>
          <h4>Output</h4>
          <Json value={s.output} label="Step output" />
        </>
      )}
      {d.prompt !== undefined && (
        <>
          <h4>Prompt</h4>
          <Json value={d.prompt} />
        </>
      )}
      {Object.keys(d).length > 0 && (
        <details>
          <summary>Everything recorded</summary>
          <Json value={d} />
        </details>
      )}
    </details>
  );
}

function Controls(props: { run: any; reload: () => void }) {
  const action = useAction();
  const [resuming, setResuming] = useState(false);
  const [payload, setPayload] = useState("{}");
  if (!may("operator")) return null;
  const r = props.run;
  const base = `/api/v1/runs/${encodeURIComponent(r.run_id)}`;
  const live = r.status === "running" || r.status === "suspended";
  const act = async (path: string, body: unknown = {}) => {
    if (await action.run(() => post(base + path, body))) props.reload();
  };
  return (
    <span class="controls">
      {live && (
        <button disabled={action.busy} onClick={() => confirm("Cancel this run?") && act("/cancel")}>
          Cancel
        </button>
      )}
      {(r.status === "failed" || r.status === "cancelled") && (
        <button disabled={action.busy} onClick={() => act("/retry")}>
          Retry from the failed step
        </button>
      )}
      {r.status === "suspended" && !resuming && <button onClick={() => setResuming(true)}>Resume…</button>}
      {resuming && (
        <form
          class="resume"
          onSubmit={async (e) => {
            e.preventDefault();
            let parsed: unknown;
            try {
              parsed = JSON.parse(payload);
            } catch {
              action.setError(new Error("the payload is not valid JSON"));
              return;
            }
            await act("/resume", { payload: parsed });
            setResuming(false);
          }}
        >
          <label>
            Payload (JSON){" "}
            <textarea class="mono" rows={3} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
          </label>
          <button class="primary" type="submit" disabled={action.busy}>
            Resume
          </button>
        </form>
      )}
      <ErrorBox error={action.error} />
    </span>
  );
}
