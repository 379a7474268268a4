import { test } from "node:test";
import assert from "node:assert/strict";
import { diffLines } from "../src/console/diff";

const render = (a: string, b: string, max?: number) =>
  diffLines(a, b, max)
    .map((l) => l.op + l.text)
    .join("|");

test("equal texts have no changes", () => {
  assert.equal(render("a\nb", "a\nb"), " a| b");
});

test("a changed line is a removal and an addition in place", () => {
  assert.equal(render("a\nb\nc", "a\nB\nc"), " a|-b|+B| c");
});

test("insertions and deletions at the ends", () => {
  assert.equal(render("b\nc", "a\nb\nc\nd"), "+a| b| c|+d");
  assert.equal(render("a\nb\nc", "b"), "-a| b|-c");
});

test("line numbers follow each side", () => {
  const d = diffLines("x\ny\nz", "y\nz\nw");
  assert.deepEqual(
    d.map((l) => [l.op, l.a, l.b]),
    [
      ["-", 1, undefined],
      [" ", 2, 1],
      [" ", 3, 2],
      ["+", undefined, 3],
    ],
  );
});

test("the result rebuilds both texts", () => {
  const a = "one\ntwo\nthree\nfour\nfive\nsix";
  const b = "zero\none\nthree\nfour\n4.5\nsix\nseven";
  const d = diffLines(a, b);
  assert.equal(d.filter((l) => l.op !== "+").map((l) => l.text).join("\n"), a);
  assert.equal(d.filter((l) => l.op !== "-").map((l) => l.text).join("\n"), b);
});

test("past the edit bound, everything is replaced", () => {
  assert.equal(render("a\nb", "c\nd", 1), "-a|-b|+c|+d");
});
