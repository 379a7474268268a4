// The chat widget in a real browser (Debian's chromium through
// playwright-core) against a real `weft serve` on a loopback port:
// chatting, a handover answered by an agent through the API, the
// conversation kept across page loads, keyboard-only use. Screenshots go to
// $WEFT_ARTIFACTS (default: a temporary folder).
//   WEFT=build/ci/src/cli/weft node test/browser/widget.browser.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const weft = process.env.WEFT;
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const artifacts = process.env.WEFT_ARTIFACTS ?? mkdtempSync(join(tmpdir(), "weft-shots-"));
mkdirSync(artifacts, { recursive: true });

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

let dir, server, base, key, browser;

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("weft serve did not start");
}

before(async () => {
  assert.ok(weft && existsSync(weft), "set WEFT to the weft binary");
  dir = mkdtempSync(join(tmpdir(), "weft-browser-"));
  mkdirSync(join(dir, "workflows"));
  writeFileSync(join(dir, "workflows", "echo.yaml"), ECHO);
  writeFileSync(join(dir, "workflows", "desk.yaml"), DESK);
  const db = join(dir, "weft.db");
  key = execFileSync(weft, ["keys", "create", "--db", db, "--name", "agent", "--role", "operator"])
    .toString()
    .split("\n")[0]
    .trim();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(weft, ["serve", "--db", db, "--workflows", join(dir, "workflows"), "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitHealthy(base);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = (method, path, body) =>
  fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

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
