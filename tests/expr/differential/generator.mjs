// Random JSONata expressions over a fixed document, for differential testing.
// Deterministic for a given seed.
export const generatorData = {
  a: 3, b: 4.5, s: 'Hello World', t: true, f: false, n: null,
  arr: [5, 1, 4, 2, 3], strs: ['pear', 'apple', 'fig'],
  obj: { x: 1, y: 'two', z: [1, 2, { w: 3 }] },
  items: [
    { id: 'a', price: 10, qty: 2, tags: ['x', 'y'] },
    { id: 'b', price: 25.5, qty: 1, tags: ['y'] },
    { id: 'c', price: 7, qty: 5, tags: [] },
    { id: 'd', price: 25.5, qty: 0 },
  ],
};

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateCases(count, seed) {
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const numLit = () => pick(['0', '1', '2', '3', '-1', '0.5', '10', '2.25', '100']);
  const strLit = () => pick(["'a'", "'Hello'", "''", "'x,y'", "'World'", "'10'"]);
  const path = () => pick(['a', 'b', 's', 't', 'f', 'n', 'arr', 'strs', 'obj', 'obj.x', 'obj.y', 'obj.z', 'obj.z.w',
    'items', 'items.id', 'items.price', 'items.qty', 'items.tags', 'items[0]', 'items[-1].id', 'arr[1]', 'arr[-1]',
    'missing', 'items[price > 8].id', 'items[qty = 0]', 'arr[$ > 2]', 'strs[0]', '$', 'items.tags[0]', '*', '**.w']);
  const fnUnary = ['$string', '$length', '$uppercase', '$lowercase', '$trim', '$count', '$sum', '$max', '$min',
    '$average', '$boolean', '$not', '$exists', '$type', '$keys', '$reverse', '$sort', '$distinct', '$number', '$abs',
    '$floor', '$ceil', '$round', '$sqrt', '$spread', '$merge', '$append'];
  const binOps = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&', 'in', '??', '?:'];
  const gen = (depth) => {
    const k = depth <= 0 ? Math.floor(r() * 3) : Math.floor(r() * 12);
    switch (k) {
      case 0: return numLit();
      case 1: return strLit();
      case 2: return path();
      case 3: return `${gen(depth - 1)} ${pick(binOps)} ${gen(depth - 1)}`;
      case 4: return `${pick(fnUnary)}(${gen(depth - 1)})`;
      case 5: return `(${gen(depth - 1)})`;
      case 6: return `[${gen(depth - 1)}, ${gen(depth - 1)}]`;
      case 7: return `{${strLit() === "''" ? "'k'" : strLit()}: ${gen(depth - 1)}}`;
      case 8: return `${gen(depth - 1)} ? ${gen(depth - 1)} : ${gen(depth - 1)}`;
      case 9: return `${pick(['items', 'arr', 'strs'])}[${gen(depth - 1)}]`;
      case 10: return `$map(${pick(['arr', 'items', 'strs'])}, function($v, $i){ ${gen(depth - 1)} })`;
      default: return `${pick(['items', 'arr', 'obj.z'])}.(${gen(depth - 1)})`;
    }
  };
  const out = [];
  for (let i = 0; i < count; i++) out.push({ expr: gen(3), data: generatorData });
  return out;
}
