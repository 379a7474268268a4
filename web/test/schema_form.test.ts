import { test } from "node:test";
import assert from "node:assert/strict";
import { formValue, initialRaw } from "../src/console/schema_form";

const schema = {
  type: "object",
  required: ["message", "count"],
  properties: {
    message: { type: "string" },
    count: { type: "integer" },
    ratio: { type: "number" },
    urgent: { type: "boolean" },
    level: { enum: ["low", "high", 3] },
    tags: { type: "array" },
  },
};

test("typed fields become typed values; empty optional ones are left out", () => {
  const r = formValue(schema, { message: "hi", count: "3", ratio: "", urgent: true, level: "3", tags: '["a"]' });
  assert.deepEqual(r.errors, {});
  assert.deepEqual(r.value, { message: "hi", count: 3, urgent: true, level: 3, tags: ["a"] });
});

test("each wrong field is named with what is wrong", () => {
  const r = formValue(schema, { message: " ", count: "2.5", ratio: "abc", level: "mid", tags: "[" });
  assert.deepEqual(r.errors, {
    message: "required",
    count: "not a whole number",
    ratio: "not a number",
    level: "one of low, high, 3",
    tags: "not valid JSON",
  });
});

test("fields start from the given values, else the defaults", () => {
  const raw = initialRaw(
    { properties: { a: { type: "string", default: "x" }, b: { type: "object" }, c: { type: "boolean" } } },
    { b: { k: 1 }, c: true },
  );
  assert.deepEqual(raw, { a: "x", b: '{\n  "k": 1\n}', c: true });
});
