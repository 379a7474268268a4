// The usage view's arithmetic: days of a period, and chart series from the
// API's rows (day, workflow, model).
export type Measure = "cost" | "tokens" | "calls";
export type By = "model" | "workflow";

export interface Row {
  day: string;
  workflow: string;
  model: string;
  cost: number;
  input_tokens: number;
  output_tokens: number;
  calls: number;
}

const measureOf = (r: Row, m: Measure) => (m === "cost" ? r.cost : m === "calls" ? r.calls : r.input_tokens + r.output_tokens);

// Every day from `from` to `to` (YYYY-MM-DD, UTC).
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

// The chart's columns: x (seconds), then one series per model or workflow.
export function series(rows: Row[], days: string[], by: By, m: Measure): { names: string[]; data: number[][] } {
  const names = [...new Set(rows.map((r) => r[by]))].sort();
  const index = new Map(days.map((d, i) => [d, i]));
  const data = [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), ...names.map(() => days.map(() => 0))];
  for (const r of rows) {
    const i = index.get(r.day);
    if (i === undefined) continue;
    data[1 + names.indexOf(r[by])]![i]! += measureOf(r, m);
  }
  return { names, data };
}

