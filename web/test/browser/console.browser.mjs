// The console in a real browser (Debian's chromium through playwright-core)
// against a real `weft serve`: signing in, starting a run from the form
// its input schema makes, watching it live, approving and refusing in the
// inbox (and a viewer who cannot), an agent chatting with a widget user
// through a handover, deploying a new version and reading its diff.
//   WEFT=build/ci/src/cli/weft node --test test/browser/console.browser.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Weft, artifacts, launch } from "./harness.mjs";

const TRIAGE = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "examples", "support-triage.yaml"),
  "utf8",
);

const REVIEW = `name: review
description: A refund that a person approves first.
trigger: manual
inputs:
  schema:
    amount: { type: number, required: true, description: "Refund amount" }
    customer: { type: string }
defs:
  ask:
    kind: task
    action: approval
    inputs: { amount: "=$input.amount", customer: "=$input.customer" }
  refund:
    kind: task
    action: log
    inputs: { message: "='refunded ' & $string($output.ask.data.amount)" }
  note_refusal:
    kind: task
    action: log
    inputs: { message: refused }
flow:
  - do: ask
  - conditional:
      when:
        - condition: "=$output.ask.approved"
          steps:
            - do: refund
      else:
        steps:
          - do: note_refusal
outputs:
  approved: "=$output.ask.approved"
  amount: "=$output.ask.data.amount"
`;

const PASSWORD = "correct horse battery staple";
let weft, base, key, browser;

before(async () => {
  weft = new Weft({ "review.yaml": REVIEW, "support-triage.yaml": TRIAGE });
  for (const [user, role] of [
    ["ana", "operator"],
    ["vic", "viewer"],
    ["ed", "admin"],
  ]) {
    weft.cli(["users", "add", user, "--role", role], PASSWORD + "\n");
  }
  key = weft.cli(["keys", "create", "--name", "ops", "--role", "operator"]).split("\n")[0].trim();
  await weft.start();
  base = weft.base;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await weft?.close();
});

async function signIn(user, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  await page.goto(base + "/");
  await page.getByLabel("User").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Console" }).waitFor();
  return page;
}

async function startReview(amount) {
  const r = await weft.api(key, "POST", "/api/v1/runs", { workflow: "review", input: { amount, customer: "Lea" }, wait_ms: 5000 });
  assert.equal(r.status, 201);
  return (await r.json()).run_id;
}

async function runOf(id) {
  return (await weft.api(key, "GET", `/api/v1/runs/${id}`)).json();
}

test("a wrong password is refused with a message; the right one opens the console", async () => {
  const page = await browser.newPage();
  await page.goto(base + "/");
  await page.getByLabel("User").fill("ana");
  await page.getByLabel("Password").fill("not it");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  assert.equal(await page.getByRole("navigation", { name: "Console" }).count(), 0);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "review" }).waitFor();
  await page.getByRole("link", { name: "support-triage" }).waitFor();
  await page.screenshot({ path: join(artifacts, "console-workflows.png") });
  await page.close();
});

test("a run started from the form is watched live, then approved with an edited amount in the inbox", async () => {
  const page = await signIn("ana");
  await page.getByRole("link", { name: "review" }).click();
  await page.locator("svg.graph [data-node]").first().waitFor();
  await page.screenshot({ path: join(artifacts, "console-workflow-graph.png") });
  await page.getByRole("tab", { name: "Start a run" }).click();
  // The form checks a required field before anything is sent.
  await page.getByRole("button", { name: "Start" }).click();
  assert.equal(await page.getByLabel(/amount/).evaluate((e) => e.validity.valid), false);
  await page.getByLabel(/amount/).fill("120");
  await page.getByLabel(/customer/).fill("Lea");
  await page.getByRole("button", { name: "Start" }).click();
  // The run's view: the approval step waits, drawn as such.
  await page.waitForURL(/#\/runs\/\w+/);
  const runId = decodeURIComponent(page.url().split("#/runs/")[1]);
  await page.locator('svg.graph [data-status="suspended"]').waitFor();
  await page.getByText("Waiting for approval").waitFor();
  await page.screenshot({ path: join(artifacts, "console-run-waiting.png") });

  // Open it in the inbox, lower the amount, approve.
  await page.getByRole("link", { name: "open in the inbox" }).click();
  const task = page.getByRole("article", { name: "Approval: ask" });
  await task.waitFor();
  await page.screenshot({ path: join(artifacts, "console-inbox-approval.png") });
  await task.getByLabel("amount").fill("100");
  await task.getByLabel("Comment").fill("partial refund");
  await task.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Pick a task.").waitFor();

  // Back in the run's view, the run has finished along the approved branch.
  await page.goto(`${base}/#/runs/${runId}`);
  await page.locator(".run-head .badge.st-completed").waitFor();
  await page.locator('svg.graph [data-status="completed"]').nth(1).waitFor();
  const run = await runOf(runId);
  assert.equal(run.status, "completed");
  assert.deepEqual(run.outputs, { approved: true, amount: 100 });
  assert.equal(run.steps.filter((s) => s.task === "ask").at(-1).output.by, "ana");
  await page.locator('details.step[data-path$=":refund"] > summary').click();
  await page.getByText("refunded 100").first().waitFor();
  await page.screenshot({ path: join(artifacts, "console-run-done.png"), fullPage: true });
  await page.close();
});

test("a run appears in the runs list as it starts and changes, and a refusal takes the other branch", async () => {
  const page = await signIn("ana");
  await page.getByRole("link", { name: "Runs", exact: true }).click();
  await page.getByRole("table").waitFor();
  const id = await startReview(75);
  const row = page.locator(`tr[data-run="${id}"]`);
  await row.locator(".badge.st-suspended").waitFor();

  await page.getByRole("link", { name: /Inbox/ }).click();
  await page.getByRole("link", { name: /ask/ }).first().click();
  await page.getByRole("article", { name: "Approval: ask" }).getByRole("button", { name: "Refuse" }).click();
  await page.getByText("Pick a task.").waitFor();
  await page.getByRole("link", { name: "Runs", exact: true }).click();
  await page.locator(`tr[data-run="${id}"] .badge.st-completed`).waitFor();
  const run = await runOf(id);
  assert.equal(run.outputs.approved, false);
  assert.ok(run.steps.some((s) => s.task === "note_refusal"));
  await page.close();
});

test("a viewer sees the inbox but cannot approve, in the page or through the API", async () => {
  const id = await startReview(30);
  const page = await signIn("vic");
  await page.getByRole("link", { name: /Inbox/ }).click();
  await page.getByRole("link", { name: /ask/ }).first().click();
  const task = page.getByRole("article", { name: "Approval: ask" });
  await task.getByText(/may look but not act/).waitFor();
  assert.equal(await task.getByRole("button", { name: "Approve" }).count(), 0);
  assert.equal(await page.getByRole("tab", { name: "Start a run" }).count(), 0);
  const status = await page.evaluate(async (runId) => {
    const me = await (await fetch("/api/v1/session")).json();
    const r = await fetch(`/api/v1/tasks/${runId}/complete`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
      body: JSON.stringify({ payload: { approved: true } }),
    });
    return r.status;
  }, id);
  assert.equal(status, 403);
  assert.equal((await runOf(id)).status, "suspended");
  await page.close();
});

test("the support-triage example hands an urgent chat to an agent, who answers in the console and hands back", async () => {
  const visitor = await browser.newPage({ viewport: { width: 420, height: 700 } });
  await visitor.goto(`${base}/demo/support`);
  await visitor.getByRole("button", { name: /Open chat/ }).click();
  await visitor.getByRole("textbox", { name: "Your message" }).fill("I was charged twice and nobody answered");
  await visitor.keyboard.press("Enter");
  await visitor.getByText("You will be connected with a person shortly.").waitFor({ timeout: 30_000 });

  // The agent, in another browser context.
  const agent = await signIn("ana");
  await agent.getByRole("link", { name: /Inbox/ }).click();
  await agent.getByRole("link", { name: /escalate_to_human/ }).first().click();
  const task = agent.getByRole("article", { name: "Handover: escalate_to_human" });
  await task.getByRole("log").getByText("I was charged twice and nobody answered").waitFor();
  await task.getByText(/urgency high/).waitFor();
  await task.getByRole("button", { name: "Take the conversation" }).click();
  await task.getByText("taken by user:ana").waitFor();
  await task.getByLabel("Message to the user").fill("Hi, Ana from billing. I see the double charge and refund it now.");
  await task.getByRole("button", { name: "Send" }).click();
  await visitor.getByText("Hi, Ana from billing. I see the double charge and refund it now.").waitFor();
  await visitor.getByText(/has joined the conversation/).waitFor();

  // The visitor answers in the widget; it shows up in the console live.
  await visitor.getByRole("textbox", { name: "Your message" }).fill("Thank you!");
  await visitor.keyboard.press("Enter");
  await task.getByRole("log").getByText("Thank you!").waitFor();
  await agent.screenshot({ path: join(artifacts, "console-handover.png") });
  await visitor.screenshot({ path: join(artifacts, "widget-agent.png") });

  // The run view shows the run waiting at the handover; handed back, it completes.
  const runView = `${base}/${await task.getByRole("link", { name: /^run / }).getAttribute("href")}`;
  await task.getByRole("button", { name: "Hand back to the workflow" }).click();
  await agent.getByText("Pick a task.").waitFor();
  await agent.goto(runView);
  await agent.locator(".run-head .badge.st-completed").waitFor();
  await agent.locator('svg.graph [data-status="completed"]').nth(1).waitFor();
  await agent.screenshot({ path: join(artifacts, "console-run-after-handover.png"), fullPage: true });
  await agent.close();
  await visitor.close();
});

test("an admin deploys a new version from the source view (a broken one is refused with its line) and reads the diff", async () => {
  const page = await signIn("ed");
  await page.goto(`${base}/#/workflows/review?tab=source`);
  await page.getByRole("button", { name: "Edit and deploy" }).click();
  const source = page.getByLabel("Workflow source");
  const text = await source.inputValue();
  await source.fill(text.replace("action: log\n    inputs: { message: refused }", "action: lgo\n    inputs: { message: refused }"));
  await page.getByRole("button", { name: "Deploy" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByRole("list", { name: "Diagnostics" }).getByText(/unknown action 'lgo'/).waitFor();

  await source.fill(text.replace("inputs: { message: refused }", "inputs: { message: refused by a reviewer }"));
  await page.getByRole("button", { name: "Deploy" }).click();
  await page.getByText("Deployed as version 2.").waitFor();
  await page.getByRole("tab", { name: "Versions" }).click();
  const diff = page.getByLabel("Differences");
  await diff.locator(".del", { hasText: "inputs: { message: refused }" }).waitFor();
  await diff.locator(".add", { hasText: "refused by a reviewer" }).waitFor();
  await page.screenshot({ path: join(artifacts, "console-diff.png") });
  await page.close();
});

test("the usage view draws its chart and a phone-sized console still works", async () => {
  const page = await signIn("ana", { width: 390, height: 800 });
  await page.getByRole("link", { name: "Usage" }).click();
  await page.locator(".chart canvas").waitFor();
  await page.getByRole("heading", { name: "Budgets" }).waitFor();
  await page.screenshot({ path: join(artifacts, "console-usage-phone.png") });
  await page.getByRole("link", { name: "Workflows" }).click();
  await page.getByRole("link", { name: "review" }).waitFor();
  await page.close();
});
