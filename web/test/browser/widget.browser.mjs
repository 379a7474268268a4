// The chat widget in a real browser (Debian's chromium through
// playwright-core) against a real `weft serve` on a loopback port:
// chatting, a handover answered by an agent through the API, the
// conversation kept across page loads, keyboard-only use. Screenshots go to
// $WEFT_ARTIFACTS (default: a temporary folder).
//   WEFT=build/ci/src/cli/weft node test/browser/widget.browser.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Weft, artifacts, launch } from "./harness.mjs";

const ECHO = `name: echo
trigger:
  chat: { channel: support }
defs:
  greet:
    kind: task
    action: send_message
    inputs:
      text: "='You said: ' & $input.text"
      quick_replies: [Billing, Other]
  ask: { kind: task, action: await_user_input, inputs: { prompt: "topic?" } }
  echo: { kind: task, action: send_message, inputs: { text: "='Topic: ' & $output.ask.text" } }
flow:
  - do: greet
  - do: ask
  - do: echo
`;

const DESK = `name: desk
trigger:
  chat: { channel: desk }
defs:
  hand: { kind: task, action: handover, inputs: { queue: billing, reason: asked for a person } }
  back: { kind: task, action: send_message, inputs: { text: The assistant is back. } }
flow:
  - do: hand
  - do: back
`;

let weft, base, key, browser;

before(async () => {
  weft = new Weft({ "echo.yaml": ECHO, "desk.yaml": DESK });
  key = weft.cli(["keys", "create", "--name", "agent", "--role", "operator"]).split("\n")[0].trim();
  await weft.start();
  base = weft.base;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await weft?.close();
});

const api = (method, path, body) => weft.api(key, method, path, body);

test("a visitor chats, picks a quick reply, and finds the conversation again after a reload", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.goto(`${base}/demo/support`);
  await page.getByRole("button", { name: /Open chat/ }).click();
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.fill("I was charged twice and nobody answered");
  await input.press("Enter");
  await page.getByText("You said: I was charged twice and nobody answered").waitFor();
  await page.getByRole("button", { name: "Billing" }).click();
  await page.getByText("Topic: Billing").waitFor();
  await page.screenshot({ path: join(artifacts, "widget-chat.png") });

  await page.reload();
  await page.getByRole("button", { name: /Open chat/ }).click();
  await page.getByText("Topic: Billing").waitFor();
  const log = page.getByRole("log");
  assert.equal(await log.getByText("I was charged twice and nobody answered", { exact: true }).count(), 1);
  assert.equal(await log.getByText("Topic: Billing").count(), 1);
  await page.close();
});

test("a handed-over visitor talks with an agent, then the workflow takes back over", async () => {
  const page = await browser.newPage({ viewport: { width: 420, height: 700 } });
  await page.goto(`${base}/demo/desk`);
  await page.getByRole("button", { name: /Open chat/ }).click();
  await page.getByRole("textbox", { name: "Your message" }).fill("I want a person");
  await page.getByRole("button", { name: "Send" }).click();
  await page.getByText("You will be connected with a person shortly.").waitFor();

  const conversation = await page.evaluate(() => {
    const k = Object.keys(localStorage).find((x) => x.startsWith("weft-chat:"));
    return JSON.parse(localStorage.getItem(k)).conversation;
  });
  // The visitor reads the handover's message while its step is still being
  // committed: an agent acts once the task is in the inbox, as here.
  let task;
  for (let i = 0; i < 200 && !task; i++) {
    const { tasks } = await (await api("GET", "/api/v1/tasks?workflow=desk&kind=handover")).json();
    task = tasks.find((t) => t.conversation === conversation);
    if (!task) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(task, "the handover is in the inbox");
  const said = await api("POST", `/api/v1/conversations/${conversation}/messages`, { text: "Hi, Ana from billing here" });
  assert.equal(said.status, 201);
  await page.getByText("Hi, Ana from billing here").waitFor();
  await page.getByText(/has joined the conversation/).waitFor();
  await page.screenshot({ path: join(artifacts, "widget-handover.png") });

  const runs = await (await api("GET", "/api/v1/runs?workflow=desk")).json();
  const resumed = await api("POST", `/api/v1/runs/${runs.runs[0].run_id}/resume`, { payload: {} });
  assert.equal(resumed.status, 202);
  await page.getByText("The assistant is back.").waitFor();
  await page.close();
});

test("a visitor attaches a file, which the conversation shows and the visitor can download", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/demo/support`);
  await page.getByRole("button", { name: /Open chat/ }).click();
  await page.locator("input[type=file]").setInputFiles({
    name: "receipt.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("Order 42, paid twice.\n"),
  });
  const link = page.getByRole("link", { name: /receipt\.txt \(22 B\)/ });
  await link.waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.equal(download.suggestedFilename(), "receipt.txt");
  await page.close();
});

test("the widget works from the keyboard alone", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/demo/support`);
  // Tab until the launcher has the focus, open it with Enter.
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    const label = await page.evaluate(() => {
      const host = document.querySelector("[id^=weft-chat-]");
      return host?.shadowRoot?.activeElement?.getAttribute("aria-label") ?? "";
    });
    if (label.startsWith("Open chat")) break;
  }
  await page.keyboard.press("Enter");
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.waitFor();
  assert.equal(await input.evaluate((e) => e === e.getRootNode().activeElement), true, "the input has the focus");
  await page.keyboard.type("typed, not clicked");
  await page.keyboard.press("Enter");
  await page.getByText("You said: typed, not clicked").waitFor();
  await page.keyboard.press("Escape");
  assert.equal(await page.getByRole("dialog").isVisible(), false);
  await page.close();
});

test("a kept conversation the server does not know is replaced by a new one", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/demo/support`);
  await page.evaluate((key) => localStorage.setItem(key, JSON.stringify({ conversation: "cv_gone", token: "e30.bm9w" })),
    `weft-chat:${base}:support`);
  await page.reload();
  await page.getByRole("button", { name: /Open chat/ }).click();
  await page.getByRole("textbox", { name: "Your message" }).fill("still there?");
  await page.keyboard.press("Enter");
  await page.getByText("You said: still there?").waitFor();
  const kept = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)).conversation, `weft-chat:${base}:support`);
  assert.notEqual(kept, "cv_gone");
  await page.close();
});

test("the widget reconnects after the server restarts, losing and repeating nothing", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/demo/support`);
  await page.getByRole("button", { name: /Open chat/ }).click();
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.fill("before the restart");
  await input.press("Enter");
  await page.getByText("You said: before the restart").waitFor();
  await weft.stop();
  await weft.start(weft.port);
  // The run waits for the topic; the answer goes through the new server.
  await input.fill("Other");
  await input.press("Enter");
  await page.getByText("Topic: Other").waitFor({ timeout: 20_000 });
  const log = page.getByRole("log");
  assert.equal(await log.getByText("You said: before the restart").count(), 1);
  assert.equal(await log.getByText("Topic: Other").count(), 1);
  await page.close();
});
