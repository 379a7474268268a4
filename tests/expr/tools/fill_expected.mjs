// Fills in the expected outcome of cases that have none, from the reference
// implementation. Review the diff before committing: the reference can be
// wrong, and weft-only cases ("weft_only": true) must be written by hand.
//   node tests/expr/tools/fill_expected.mjs [--force]
import fs from 'node:fs';
import path from 'node:path';
import { casesDir, readCases, runReference } from '../differential/reference.mjs';

const force = process.argv.includes('--force');
let filled = 0;
for (const f of fs.readdirSync(casesDir).filter((n) => n.endsWith('.jsonl')).sort()) {
  const file = path.join(casesDir, f);
  const cases = readCases(file);
  for (const c of cases) {
    const has = 'result' in c || 'undefined' in c || 'error' in c || 'function' in c;
    if ((has && !force) || c.weft_only) continue;
    delete c.result; delete c.undefined; delete c.error; delete c.function;
    const r = await runReference(c);
    if ('error' in r) c.error = r.error.code;
    else if ('undefined' in r) c.undefined = true;
    else if ('function' in r) c.function = true;
    else c.result = r.result;
    filled++;
  }
  fs.writeFileSync(file, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
}
console.log(`filled ${filled} cases`);
