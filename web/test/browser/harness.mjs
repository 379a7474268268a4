// What the browser tests share: a real `weft serve` on a free loopback
// port over a temporary folder, and Debian's chromium through
// playwright-core. Screenshots go to $WEFT_ARTIFACTS.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

export const artifacts = process.env.WEFT_ARTIFACTS ?? mkdtempSync(join(tmpdir(), "weft-shots-"));
mkdirSync(artifacts, { recursive: true });

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
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("weft serve did not start");
}

// A folder with `workflows` ({file name: YAML}), a database, and a server
// on it. `weft(args, stdin)` runs the CLI on the same database.
export class Weft {
  constructor(workflows) {
    this.bin = process.env.WEFT;
    assert.ok(this.bin && existsSync(this.bin), "set WEFT to the weft binary");
    this.dir = mkdtempSync(join(tmpdir(), "weft-browser-"));
    mkdirSync(join(this.dir, "workflows"));
    for (const [name, text] of Object.entries(workflows)) writeFileSync(join(this.dir, "workflows", name), text);
    this.db = join(this.dir, "weft.db");
  }

  cli(args, input) {
    return execFileSync(this.bin, [...args, "--db", this.db], { input }).toString();
  }

  async start(port) {
    this.port = port ?? this.port ?? (await freePort());
    this.base = `http://127.0.0.1:${this.port}`;
    this.server = spawn(
      this.bin,
      ["serve", "--db", this.db, "--workflows", join(this.dir, "workflows"), "--listen", `127.0.0.1:${this.port}`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitHealthy(this.base);
  }

  async stop() {
    if (!this.server) return;
    const exited = new Promise((r) => this.server.once("exit", r));
    this.server.kill("SIGTERM");
    await exited;
    this.server = undefined;
  }

  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // A JSON API call with a bearer key.
  api(key, method, path, body) {
    return fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
}
