import { test } from "node:test";
import assert from "node:assert/strict";
import { daysBetween, series } from "../src/console/usage_data";

test("the days of a period, month ends included", () => {
  assert.deepEqual(daysBetween("2026-11-29", "2026-12-02"), ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]);
});

test("usage rows become one series per model, zero where nothing was spent", () => {
  const row = (day: string, model: string, cost: number) => ({
    day, workflow: "triage", model, cost, input_tokens: 10, output_tokens: 5, calls: 1,
  });
  const rows = [row("2026-12-01", "gpt", 0.5), row("2026-12-01", "local", 0), row("2026-12-02", "gpt", 0.25)];
  const s = series(rows, ["2026-11-30", "2026-12-01", "2026-12-02"], "model", "cost");
  assert.deepEqual(s.names, ["gpt", "local"]);
  assert.deepEqual(s.data[1], [0, 0.5, 0.25]);
  assert.deepEqual(s.data[2], [0, 0, 0]);
  assert.deepEqual(series(rows, ["2026-12-01"], "workflow", "tokens").data[1], [30]);
});
