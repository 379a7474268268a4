// Compiles the unit tests (test/*.test.ts) with esbuild and runs them with
// node's test runner.
import { build } from "esbuild";
import { readdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tests = readdirSync(join(root, "test")).filter((f) => f.endsWith(".test.ts"));
const out = mkdtempSync(join(tmpdir(), "weft-web-test-"));
try {
  await build({
    entryPoints: tests.map((f) => join(root, "test", f)),
    outdir: out,
    bundle: true,
    platform: "node",
    format: "esm",
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const files = readdirSync(out).map((f) => join(out, f));
  const r = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
