import { test } from "node:test";
import assert from "node:assert/strict";
import { LoadOrder, type Verdict } from "../src/console/load_order";

// Each case: what happens, in order, and the verdicts the answers get.
// "start a" begins load a (its first read); "change" is a live change;
// "answer a" / "fail a" is a's read answering; "reset" is other deps.
const cases: { name: string; steps: string[]; verdicts: Verdict[] }[] = [
  { name: "a lone load is shown", steps: ["start a", "answer a"], verdicts: ["show"] },
  {
    name: "an answer older than the one shown is dropped",
    steps: ["start a", "start b", "answer b", "answer a"],
    verdicts: ["show", "drop"],
  },
  {
    name: "answers in order are all shown",
    steps: ["start a", "start b", "answer a", "answer b"],
    verdicts: ["show", "show"],
  },
  {
    name: "a load a live change overtook reads again, then is shown",
    steps: ["start a", "change", "answer a", "answer a"],
    verdicts: ["again", "show"],
  },
  {
    name: "changes before the load began do not count",
    steps: ["change", "start a", "answer a"],
    verdicts: ["show"],
  },
  {
    name: "overtaken every time, it is shown after four reads again",
    steps: ["start a", "change", "answer a", "change", "answer a", "change", "answer a", "change", "answer a", "change", "answer a"],
    verdicts: ["again", "again", "again", "again", "show"],
  },
  {
    name: "loads started while events come: none starves",
    steps: ["start a", "start b", "answer a", "start c", "answer b", "start d", "answer c", "answer d"],
    verdicts: ["show", "show", "show", "show"],
  },
  {
    name: "what loads for other deps is dropped",
    steps: ["start a", "reset", "start b", "answer a", "answer b"],
    verdicts: ["drop", "show"],
  },
  {
    name: "a failure is shown like an answer, and never read again",
    steps: ["start a", "change", "fail a", "start b", "answer b"],
    verdicts: ["show", "show"],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const order = new LoadOrder();
    const loads = new Map<string, { id: number; seen: number; retries: number }>();
    const verdicts: Verdict[] = [];
    for (const step of c.steps) {
      const [what, name] = step.split(" ");
      if (what === "start") {
        loads.set(name!, { id: order.start(), seen: order.reading(), retries: 4 });
      } else if (what === "change") {
        order.changed();
      } else if (what === "reset") {
        order.reset();
      } else {
        const l = loads.get(name!)!;
        const v = order.answered(l.id, l.seen, l.retries, what === "answer");
        verdicts.push(v);
        if (v === "again") loads.set(name!, { id: l.id, seen: order.reading(), retries: l.retries - 1 });
      }
    }
    assert.deepEqual(verdicts, c.verdicts);
  });
}
