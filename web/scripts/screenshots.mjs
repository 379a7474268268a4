// The README's screenshots, taken from a real `weft serve` running the
// support-triage example: the widget's demo page, a run's view, the inbox
// with a handed-over conversation, the workflows list.
//   WEFT=build/ci/src/cli/weft node web/scripts/screenshots.mjs [OUT_DIR]   (default docs/images)
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Weft, launch } from "../test/browser/harness.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = process.argv[2] ?? join(root, "docs", "images");
const PASSWORD = "screenshots only";

const weft = new Weft({ "support-triage.yaml": readFileSync(join(root, "examples", "support-triage.yaml"), "utf8") });
weft.cli(["users", "add", "ana", "--role", "operator"], PASSWORD + "\n");
await weft.start();
const browser = await launch();
try {
  const visitor = await browser.newPage({ viewport: { width: 900, height: 640 } });
  await visitor.goto(`${weft.base}/demo/support`);
  await visitor.getByRole("button", { name: /Open chat/ }).click();
  const input = visitor.getByRole("textbox", { name: "Your message" });
  await input.fill("Where can I download my invoices?");
  await input.press("Enter");
  await visitor.getByText(/Thanks for reaching out/).waitFor();
  await visitor.screenshot({ path: join(out, "widget.png") });

  // A second visitor whose message is urgent: handed over to a person.
  const urgent = await browser.newPage({ viewport: { width: 900, height: 640 } });
  await urgent.goto(`${weft.base}/demo/support`);
  await urgent.getByRole("button", { name: /Open chat/ }).click();
  await urgent.getByRole("textbox", { name: "Your message" }).fill("I was charged twice and nobody answered");
  await urgent.keyboard.press("Enter");
  await urgent.getByText(/connected with a person/).waitFor();

  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await page.goto(weft.base + "/");
  await page.getByLabel("User").fill("ana");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "support-triage" }).waitFor();
  await page.screenshot({ path: join(out, "console-workflows.png") });

  await page.getByRole("link", { name: /Inbox/ }).click();
  await page.getByRole("link", { name: /escalate_to_human/ }).first().click();
  const task = page.getByRole("article", { name: /Handover/ });
  await task.getByRole("button", { name: "Take the conversation" }).click();
  await task.getByLabel("Message to the user").fill("Hi, I'm Ana from billing. I see the double charge; refunding it now.");
  await task.getByRole("button", { name: "Send" }).click();
  await urgent.getByText(/refunding it now/).waitFor();
  await page.screenshot({ path: join(out, "console-inbox.png") });

  await page.getByRole("link", { name: /^run / }).click();
  await page.locator('svg.graph [data-status="suspended"]').waitFor();
  await page.locator("details.step summary").first().click();
  await page.screenshot({ path: join(out, "console-run.png") });
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await weft.close();
}
