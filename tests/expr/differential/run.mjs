// Differential test: weft's expression engine against the reference
// implementation (jsonata-js 2.2.2), on every case file and on generated
// expressions. Exits non-zero on any disagreement. Cases marked "weft_only"
// (with a "note" saying why) are where weft deliberately differs and are
// checked by the C++ case runner instead.
//   node tests/expr/differential/run.mjs --weft build/release/src/cli/weft [--generated N] [--seed S] [--verbose]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseInput, casesDir, readCases, runReference } from './reference.mjs';
import { generateCases } from './generator.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const weft = opt('--weft', 'build/release/src/cli/weft');
const generatedCount = Number(opt('--generated', '2000'));
const seed = Number(opt('--seed', '20261129'));
const verbose = args.includes('--verbose');

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

// Generated expressions often contain several errors; jsonata-js evaluates
// array items concurrently, so which one it reports is a scheduling accident.
// For them, any error on both sides agrees.
function sameOutcome(ref, got, generated) {
  if ('error' in ref || 'error' in got) {
    return 'error' in ref && 'error' in got && (generated || ref.error.code === got.error.code);
  }
  if ('undefined' in ref || 'undefined' in got) return 'undefined' in ref && 'undefined' in got;
  if ('function' in ref || 'function' in got) return 'function' in ref && 'function' in got;
  return deepEqual(ref.result, got.result);
}

// Skip cases whose reference answer is not deterministic.
const nondeterministic = /\$random|\$shuffle|\$now|\$millis/;

const cases = [];
for (const f of fs.readdirSync(casesDir).filter((n) => n.endsWith('.jsonl')).sort()) {
  for (const c of readCases(path.join(casesDir, f))) {
    if (c.weft_only || nondeterministic.test(c.expr)) continue;
    cases.push({ ...c, file: f });
  }
}
const generated = generateCases(generatedCount, seed);
const all = cases.concat(generated.map((c) => ({ ...c, file: 'generated' })));

const input = all.map((c) => JSON.stringify({ expr: c.expr, data: caseInput(c), bindings: c.bindings })).join('\n') + '\n';
const proc = spawnSync(weft, ['eval', '--jsonl', '--timeout-ms', '5000'], { input, maxBuffer: 1 << 30 });
if (proc.status !== 0) {
  console.error(`weft eval --jsonl exited with ${proc.status}: ${proc.stderr}`);
  process.exit(2);
}
const lines = proc.stdout.toString().split('\n').filter((l) => l.trim());
if (lines.length !== all.length) {
  console.error(`expected ${all.length} result lines from weft, got ${lines.length}`);
  process.exit(2);
}

let failed = 0, passed = 0, positionDiffs = 0;
for (let i = 0; i < all.length; i++) {
  const c = all[i];
  const got = JSON.parse(lines[i]);
  const ref = await runReference(c);
  if (sameOutcome(ref, got, c.file === 'generated')) {
    passed++;
    if ('error' in ref && c.file !== 'generated' && ref.error.position !== got.error.position) {
      positionDiffs++;
      if (verbose) console.log(`POSITION [${c.file}] ${c.expr}: jsonata ${ref.error.position}, weft ${got.error.position}`);
    }
    continue;
  }
  failed++;
  if (verbose || failed <= 40) {
    console.log(`DIFF [${c.file}] ${c.expr}${c.dataset ? '  (dataset ' + c.dataset + ')' : ''}`);
    console.log(`   jsonata: ${JSON.stringify(ref)}`);
    console.log(`   weft:    ${JSON.stringify(got)}`);
  }
}
console.log(`differential: ${cases.length} case-file expressions + ${generated.length} generated`);
if (positionDiffs) console.log(`(${positionDiffs} errors agree on the code but not on the position)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
