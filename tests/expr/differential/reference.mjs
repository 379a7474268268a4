// Runs one case through the reference JSONata implementation (jsonata-js).
// Shared by fill_expected.mjs and run.mjs.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const jsonata = require('jsonata');
const here = path.dirname(fileURLToPath(import.meta.url));
export const casesDir = path.join(here, '..', 'cases');
export const datasetsDir = path.join(here, '..', 'datasets');

const datasetCache = new Map();
export function caseInput(c) {
  if (c.dataset) {
    if (!datasetCache.has(c.dataset)) {
      datasetCache.set(c.dataset, JSON.parse(fs.readFileSync(path.join(datasetsDir, c.dataset + '.json'), 'utf8')));
    }
    return datasetCache.get(c.dataset);
  }
  return c.data;
}

// Normalises a JSONata result the way weft's --jsonl reports it.
export async function runReference(c) {
  let expr;
  try {
    expr = jsonata(c.expr);
  } catch (e) {
    return { error: { code: e.code || 'EXCEPTION', position: e.position, message: e.message } };
  }
  try {
    const r = await expr.evaluate(structuredClone(caseInput(c)), c.bindings);
    if (r === undefined) return { undefined: true };
    if (typeof r === 'function' || (r && typeof r === 'object' && (r._jsonata_lambda || r._jsonata_function))) {
      return { function: true };
    }
    return { result: JSON.parse(JSON.stringify(r)) };
  } catch (e) {
    return { error: { code: e.code || 'EXCEPTION', position: e.position, message: e.message } };
  }
}

export function readCases(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}
