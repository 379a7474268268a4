// Tokens and cost per day, workflow and model (a chart and the totals),
// and each workflow's daily budget beside what it spent today.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { get, query } from "../api";
import { ErrorBox, useLoad } from "../ui";
import { type By, type Measure, type Row, daysBetween, series } from "../usage_data";

const COLORS = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#4b5563"];

export function Usage() {
  const [days, setDays] = useState(30);
  const [measure, setMeasure] = useState<Measure>("cost");
  const [by, setBy] = useState<By>("model");
  const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const to = new Date().toISOString().slice(0, 10);
  const usage = useLoad(() => get(`/api/v1/usage/daily${query({ from, to })}`), [from, to]);
  const rows: Row[] = usage.data?.rows ?? [];
  const totals = new Map<string, Row>();
  for (const r of rows) {
    const k = `${r.workflow}\u0000${r.model}`;
    const t = totals.get(k) ?? { ...r, day: "", cost: 0, input_tokens: 0, output_tokens: 0, calls: 0 };
    t.cost += r.cost;
    t.input_tokens += r.input_tokens;
    t.output_tokens += r.output_tokens;
    t.calls += r.calls;
    totals.set(k, t);
  }
  return (
    <section>
      <h1>Usage</h1>
      <form class="row filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Period{" "}
          <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </label>
        <label>
          Show{" "}
          <select value={measure} onChange={(e) => setMeasure(e.currentTarget.value as Measure)}>
            <option value="cost">cost</option>
            <option value="tokens">tokens</option>
            <option value="calls">calls</option>
          </select>
        </label>
        <label>
          By{" "}
          <select value={by} onChange={(e) => setBy(e.currentTarget.value as By)}>
            <option value="model">model</option>
            <option value="workflow">workflow</option>
          </select>
        </label>
      </form>
      <ErrorBox error={usage.error} />
      {usage.data && <Chart rows={rows} days={daysBetween(usage.data.from, usage.data.to)} by={by} measure={measure} />}
      {usage.data && rows.length === 0 && <p class="muted">No model call in this period.</p>}
      {totals.size > 0 && (
        <table class="list compact" aria-label="Totals">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Model</th>
              <th>Calls</th>
              <th>Input tokens</th>
              <th>Output tokens</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {[...totals.values()].map((t) => (
              <tr>
                <td>{t.workflow}</td>
                <td>{t.model}</td>
                <td>{t.calls}</td>
                <td>{t.input_tokens}</td>
                <td>{t.output_tokens}</td>
                <td>{t.cost.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Budgets</h2>
      {usage.data && usage.data.budgets.length === 0 && (
        <p class="muted">
          No workflow sets a daily budget (<code>settings.budget.per_workflow_day</code> on its AI steps).
        </p>
      )}
      {(usage.data?.budgets ?? []).map((b: any) => {
        const share = b.per_workflow_day > 0 ? Math.min(1, b.spent_today / b.per_workflow_day) : 1;
        return (
          <div class="budget">
            <span>{b.workflow}</span>
            <meter min={0} max={b.per_workflow_day} value={b.spent_today} high={b.per_workflow_day * 0.8} aria-label={`${b.workflow} spent today`} />
            <span class="muted">
              {b.spent_today.toFixed(4)} of {b.per_workflow_day} today ({Math.round(share * 100)} %)
            </span>
          </div>
        );
      })}
    </section>
  );
}

function Chart(props: { rows: Row[]; days: string[]; by: By; measure: Measure }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const { names, data } = series(props.rows, props.days, props.by, props.measure);
    const width = Math.max(320, box.current.clientWidth || 800);
    const plot = new uPlot(
      {
        width,
        height: 260,
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true } }))],
        axes: [{}, { size: 70 }],
        scales: { x: { time: true } },
      },
      data as uPlot.AlignedData,
      box.current,
    );
    return () => plot.destroy();
  }, [props.rows, props.days, props.by, props.measure]);
  return <div ref={box} class="chart" role="img" aria-label={`${props.measure} per day by ${props.by}`} />;
}
