// Side-by-side: weft vs jsonata-js 2.2.2 (the reference JSONata) in one run,
// on the expressions and inputs of bench/expr_cases.json.
//
//   node bench/jsonata_compare.mjs --weft-bench build/release/bench/expr_bench [--seconds 1] [--quick]
//
// jsonata-js: per-evaluation time = total / iterations of `await expr.evaluate(input)`
// (compile excluded), compile time = `jsonata(text)`. weft: google-benchmark
// figures from expr_bench (same expressions, same inputs). Prints a markdown
// table with the ratios.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'expr', 'differential', 'package.json'));
const jsonata = require('jsonata');

const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(n) >= 0 ? args[args.indexOf(n) + 1] : d);
const weftBench = opt('--weft-bench', 'build/release/bench/expr_bench');
const quick = args.includes('--quick');
const seconds = Number(opt('--seconds', quick ? '0.05' : '1'));
const spec = JSON.parse(fs.readFileSync(path.join(here, 'expr_cases.json'), 'utf8'));

async function timeIt(fn, budgetMs) {
  for (let i = 0; i < 50; i++) await fn();  // warm-up (JIT)
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  const budget = BigInt(Math.round(budgetMs * 1e6));
  while (elapsed < budget) {
    for (let i = 0; i < 20; i++) await fn();
    iters += 20;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / iters;  // ns per call
}

const js = {};
for (const c of spec.cases) {
  const input = spec.data[c.data];
  const expr = jsonata(c.expr);
  const evalNs = await timeIt(() => expr.evaluate(input), seconds * 1000);
  const compileNs = await timeIt(() => jsonata(c.expr), seconds * 500);
  js[c.name] = { evalNs, compileNs };
}

const minTime = quick ? '0.01' : String(seconds / 2);
const run = spawnSync(weftBench, [`--benchmark_min_time=${minTime}`, '--benchmark_format=json', '--benchmark_filter=^(eval|compile)/'], { maxBuffer: 1 << 28 });
if (run.status !== 0) {
  console.error(run.stderr.toString());
  process.exit(1);
}
const weft = {};
for (const b of JSON.parse(run.stdout.toString()).benchmarks) {
  const [kind, name] = b.name.split('/');
  const ns = b.time_unit === 'ns' ? b.real_time : b.time_unit === 'us' ? b.real_time * 1e3 : b.real_time * 1e6;
  (weft[name] ??= {})[kind] = ns;
}

const fmt = (ns) => (ns >= 1e6 ? (ns / 1e6).toFixed(2) + ' ms' : ns >= 1e3 ? (ns / 1e3).toFixed(2) + ' µs' : ns.toFixed(0) + ' ns');
console.log(`node ${process.version}, jsonata ${require('jsonata/package.json').version}`);
console.log('| case | weft eval | jsonata-js eval | eval speed-up | weft compile | jsonata-js compile | compile speed-up |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
let minEval = Infinity, minCompile = Infinity;
for (const c of spec.cases) {
  const w = weft[c.name], j = js[c.name];
  const se = j.evalNs / w.eval, sc = j.compileNs / w.compile;
  minEval = Math.min(minEval, se);
  minCompile = Math.min(minCompile, sc);
  console.log(`| ${c.name} | ${fmt(w.eval)} | ${fmt(j.evalNs)} | ${se.toFixed(1)}× | ${fmt(w.compile)} | ${fmt(j.compileNs)} | ${sc.toFixed(1)}× |`);
}
console.log(`\nminimum speed-up: eval ${minEval.toFixed(1)}×, compile ${minCompile.toFixed(1)}×`);
