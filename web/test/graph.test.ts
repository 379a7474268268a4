import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeOf } from "../src/console/graph";

test("a step's record belongs to the node of its path", () => {
  assert.equal(nodeOf("0:classify_issue"), "0");
  assert.equal(nodeOf("1.branch.0.0:escalate"), "1.branch.0.0");
  assert.equal(nodeOf("2.collector.0:loop_task[3]"), "2.collector.0");
  assert.equal(nodeOf("2.collector.0:loop_task[3.1]"), "2.collector.0");
  assert.equal(nodeOf("1:fetch.fallback.0:notify"), "1:fetch.fallback.0");
  assert.equal(nodeOf("2.l.0:fetch[1].fallback.0:notify"), "2.l.0:fetch.fallback.0");
  assert.equal(nodeOf("0:refund/approval"), "0");
  assert.equal(nodeOf("0:help/turn.1.tool.0/approval"), "0");
});
