import { test } from "node:test";
import assert from "node:assert/strict";
import { Conversation, type ChatMessage } from "../src/widget/conversation";

const msg = (seq: number, role: ChatMessage["role"], text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  seq,
  role,
  kind: "text",
  content: { text },
  created_ms: 0,
  ...extra,
});

test("messages are kept once and in seq order, whatever order they arrive in", () => {
  const c = new Conversation();
  assert.equal(c.add(msg(3, "assistant", "c")), true);
  assert.equal(c.add(msg(1, "user", "a")), true);
  assert.equal(c.add(msg(2, "assistant", "b")), true);
  assert.equal(c.add(msg(3, "assistant", "c")), false); // again after a reconnection
  assert.deepEqual(c.messages.map((m) => m.seq), [1, 2, 3]);
  assert.equal(c.lastSeq, 3);
});

test("a sent message is pending until its acknowledgement or its echo", () => {
  const c = new Conversation();
  const a = c.compose("hello");
  const b = c.compose("again");
  assert.notEqual(a.id, b.id);
  assert.equal(c.pending.length, 2);
  assert.equal(c.apply({ type: "ack", id: a.id, seq: 1 }), true);
  assert.deepEqual(c.pending.map((p) => p.id), [b.id]);
  c.add(msg(2, "user", "again", { content: { id: b.id, text: "again" } }));
  assert.equal(c.pending.length, 0);
});

test("a refused message stays, marked with the reason", () => {
  const c = new Conversation();
  const a = c.compose("x".repeat(10));
  c.apply({ type: "error", id: a.id, error: { code: "RESOURCE_EXHAUSTED", message: "too fast" } });
  assert.equal(c.pending[0].failed, "too fast");
});

test("streamed text grows until the run's message arrives", () => {
  const c = new Conversation();
  c.apply({ type: "typing", on: true });
  c.apply({ type: "delta", run_id: "r", path: "0", delta: "Hel" });
  c.apply({ type: "delta", run_id: "r", path: "0", delta: "lo" });
  assert.deepEqual([...c.streaming.values()], ["Hello"]);
  c.add(msg(1, "assistant", "Hello"));
  assert.equal(c.streaming.size, 0);
  assert.equal(c.typing, false);
});

test("quick replies are offered by the last word only", () => {
  const c = new Conversation();
  c.add(msg(1, "assistant", "Which?", { content: { text: "Which?", quick_replies: ["A", { title: "B", payload: "b" }] } }));
  assert.deepEqual(c.quickReplies, [{ title: "A", payload: "A" }, { title: "B", payload: "b" }]);
  c.add(msg(2, "user", "A"));
  assert.deepEqual(c.quickReplies, []);
});

test("a person joining, and the workflow taking over again", () => {
  const c = new Conversation();
  c.add(msg(1, "assistant", "", { kind: "handover", content: { queue: "billing" } }));
  assert.equal(c.withPerson, true);
  c.add(msg(2, "agent", "Hi, Ana here", { content: { text: "Hi, Ana here", by: "ana" } }));
  assert.equal(c.withPerson, true);
  c.add(msg(3, "assistant", "The assistant is back."));
  assert.equal(c.withPerson, false);
});
