// Random JSONata expressions over a fixed document, for differential testing.
// Deterministic for a given seed. Three families: free-form operator soup
// (mostly exercising type rules and errors), path/predicate/binding shapes,
// and standard-library calls with varied arguments.
export const generatorData = {
  a: 3, b: 4.5, s: 'Hello World', t: true, f: false, n: null,
  arr: [5, 1, 4, 2, 3], strs: ['pear', 'apple', 'fig'],
  obj: { x: 1, y: 'two', z: [1, 2, { w: 3 }] },
  items: [
    { id: 'a', price: 10, qty: 2, tags: ['x', 'y'], cat: 'tools' },
    { id: 'b', price: 25.5, qty: 1, tags: ['y'], cat: 'toys' },
    { id: 'c', price: 7, qty: 5, tags: [], cat: 'tools' },
    { id: 'd', price: 25.5, qty: 0, cat: 'food' },
  ],
  orders: [
    { no: 1, lines: [{ sku: 'a', n: 2 }, { sku: 'b', n: 1 }] },
    { no: 2, lines: [{ sku: 'c', n: 5 }] },
    { no: 3, lines: [] },
  ],
  ts: 1510067557121,
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
  const num = () => pick(['0', '1', '2', '3', '-1', '0.5', '10', '2.25', '100', '1e3', '-2.5']);
  const str = () => pick(["'a'", "'Hello'", "''", "'x,y'", "'World'", "'10'", "'o'", "' pad '"]);
  const path = () => pick(['a', 'b', 's', 't', 'f', 'n', 'arr', 'strs', 'obj', 'obj.x', 'obj.y', 'obj.z', 'obj.z.w',
    'items', 'items.id', 'items.price', 'items.qty', 'items.tags', 'items[0]', 'items[-1].id', 'arr[1]', 'arr[-1]',
    'missing', 'items[price > 8].id', 'items[qty = 0]', 'arr[$ > 2]', 'strs[0]', '$', 'items.tags[0]', '*', '**.w',
    'orders.lines.sku', 'orders[0].lines', 'orders.lines[n > 1]', 'orders.lines[0].n', 'items.cat']);
  const fnUnary = ['$string', '$length', '$uppercase', '$lowercase', '$trim', '$count', '$sum', '$max', '$min',
    '$average', '$boolean', '$not', '$exists', '$type', '$keys', '$reverse', '$sort', '$distinct', '$number', '$abs',
    '$floor', '$ceil', '$round', '$sqrt', '$spread', '$merge', '$append', '$each', '$lookup'];
  const binOps = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&', 'in', '??', '?:'];

  const soup = (depth) => {
    const k = depth <= 0 ? Math.floor(r() * 3) : Math.floor(r() * 12);
    switch (k) {
      case 0: return num();
      case 1: return str();
      case 2: return path();
      case 3: return `${soup(depth - 1)} ${pick(binOps)} ${soup(depth - 1)}`;
      case 4: return `${pick(fnUnary)}(${soup(depth - 1)})`;
      case 5: return `(${soup(depth - 1)})`;
      case 6: return `[${soup(depth - 1)}, ${soup(depth - 1)}]`;
      case 7: return `{${str() === "''" ? "'k'" : str()}: ${soup(depth - 1)}}`;
      case 8: return `${soup(depth - 1)} ? ${soup(depth - 1)} : ${soup(depth - 1)}`;
      case 9: return `${pick(['items', 'arr', 'strs'])}[${soup(depth - 1)}]`;
      case 10: return `$map(${pick(['arr', 'items', 'strs'])}, function($v, $i){ ${soup(depth - 1)} })`;
      default: return `${pick(['items', 'arr', 'obj.z'])}.(${soup(depth - 1)})`;
    }
  };

  const itemPred = () => pick(['price > 8', 'qty = 0', "cat = 'tools'", '$count(tags) > 0', 'tags', 'price < qty * 5',
    "id in ['a', 'c']", '$not(qty)', '0', '-1', '[0, 2]', 'true', "$contains(id, 'b')"]);
  const itemExpr = () => pick(['id', 'price', 'qty', 'price * qty', "id & '-' & cat", 'tags', '$count(tags)',
    "{'id': id, 'v': price}", '[id, qty]', '$uppercase(id)', 'tags[0]', 'qty > 1']);
  const shapes = [
    () => `items[${itemPred()}].${itemExpr()}`,
    () => `items[${itemPred()}][${itemPred()}].id`,
    () => `items#$i[${itemPred()}].{'i': $i, 'x': ${itemExpr()}}`,
    () => `items@$it.orders.lines[sku = $it.id].{'id': $it.id, 'n': n}`,
    () => `orders.lines.{'sku': sku, 'order': %.no}`,
    () => `orders.lines[%.no > 1].sku`,
    () => `items^(${pick(['price', '>price', 'qty, >id', '>qty, price', 'cat', '>cat, id'])}).${itemExpr()}`,
    () => `items{${pick(['cat', 'id', "cat & '!'"])}: ${pick(['$sum(price)', '$count(id)', 'id', 'qty[]', '$max(price)'])}}`,
    () => `items.{${pick(['cat', 'id'])}: ${itemExpr()}}`,
    () => `$reduce(items, function($acc, $v){ $acc + $v.${pick(['price', 'qty'])} }, ${num()})`,
    () => `$filter(items, function($v, $i){ ${itemPred().replace(/\b(price|qty|cat|tags|id)\b/g, '$v.$1')} }).id`,
    () => `$sort(items, function($l, $r){ $l.${pick(['price', 'qty'])} ${pick(['>', '<'])} $r.${pick(['price', 'qty'])} }).id`,
    () => `($f := function($x){ ${pick(['$x * 2', '$x & $x', '$x > 2', '[$x]', "{'v': $x}"])} }; ${pick(['arr', 'strs', 'items.qty'])}.$f($))`,
    () => `($acc := ${num()}; $add := function($v){ $v + $acc }; $map(arr, $add))`,
    () => `($p := $substring(?, ${pick(['0', '1', '-2'])}, ${pick(['1', '2', '3'])}); strs.$p($))`,
    () => `items.tags ~> $${pick(['distinct', 'count', 'join', 'reverse', 'sort'])}()`,
    () => `$ ~> |items[${itemPred()}]|{'flag': true}| ~> $lookup('items') ~> $map(function($v){ $exists($v.flag) })`,
    () => `[${pick(['1..3', '0..0', '2..1', 'a..5', '-1..1'])}].${pick(['$ * 2', '$string($)', '$ > 1', "{'n': $}"])}`,
    () => `(${pick(['$x := 3', '$x := s', '$x := items[0]'])}; ${pick(['$x', '$x.id', '$type($x)', '$string($x)'])})`,
  ];
  const lib = [
    () => `$substring(s, ${num()}, ${num()})`,
    () => `$pad(${str()}, ${pick(['5', '-5', '0', '8', '-8'])}, ${pick(["'*'", "'ab'", "''"])})`,
    () => `$split(${pick(['s', "'a,b,,c'", "'x,y'"])}, ${pick(["','", "' '", "''", '/[lo]/', '/,+/'])}, ${pick(['1', '2', '10', '0'])})`,
    () => `$join(${pick(['strs', 'items.id', '[]', "['a']"])}, ${pick(["', '", "''", "'|'"])})`,
    () => `$replace(s, ${pick(["'o'", "'l'", '/o/', '/(l+)/', '/[A-Z]/'])}, ${pick(["'0'", "'[$1]'", "'$0$0'", "''"])}, ${pick(['1', '2', '5'])})`,
    () => `$match(s, ${pick(['/o/', '/(l)(o)/', '/[a-z]+/', '/x/', '/W/i'])}).${pick(['match', 'index', 'groups'])}`,
    () => `$contains(s, ${pick(["'World'", "'world'", '/wor/i', '/^H/', "''"])})`,
    () => `$formatNumber(${pick(['1234.5678', '0.125', '-42', '1e6', '0', '99.995', '7'])}, '${pick(['#,##0.00', '0.0', '000', '#.###', '0%', '#,##0;(#,##0)', '0.00e0', '#0.#'])}')`,
    () => `$formatInteger(${pick(['0', '1', '7', '12', '99', '1234', '2024', '1000001'])}, '${pick(['w', 'W', 'Ww', 'I', 'i', 'a', 'A', '0001', '#,##0', '1;o', 'w;o'])}')`,
    () => `$formatBase(${pick(['255', '-10', '0', '1e6', '3.7'])}, ${pick(['2', '8', '16', '36'])})`,
    () => `$fromMillis(ts${pick(['', ' + 86400000', ' * 0.5', ' - 31536000000'])}, '${pick(['[Y0001]-[M01]-[D01]', '[H01]:[m01]:[s01].[f001]', '[FNn], [D1o] [MNn] [Y]', '[h]:[m01][P]', '[Y,2]/[M]/[D]', '[W] [X] [w] [xNn,3-3]', '[dwo] [Ywo]'])}')`,
    () => `$round(${pick(['2.5', '3.5', '-2.5', '1.005', '123.456', '0.125'])}, ${pick(['0', '1', '2', '-1'])})`,
    () => `$number(${pick(["'12'", "'1.5e2'", "'0x10'", "' 3'", "'-0'", 'true', "'abc'"])})`,
    () => `$${pick(['uppercase', 'lowercase', 'length', 'trim', 'base64encode', 'encodeUrlComponent'])}(${pick(['s', "'  A  b '", "'x y&z'", "''"])})`,
    () => `$${pick(['keys', 'spread', 'type', 'string', 'exists'])}(${pick(['obj', 'items[0]', 'arr', 'n', 'missing', 'orders'])})`,
    () => `$zip(${pick(['arr', 'strs', '[1,2]'])}, ${pick(['strs', 'arr', '[]'])})`,
    () => `$sift(obj, function($v, $k){ ${pick(["$k = 'x'", "$type($v) = 'string'", 'true', 'false'])} })`,
    () => `$toMillis('${pick(['2017-11-07T15:12:37.121Z', '2017-11-07', '2020-02-29T00:00:00+02:00', '1999-12-31T23:59:59Z'])}')`,
  ];

  const out = [];
  for (let i = 0; i < count; i++) {
    const family = r();
    let expr;
    if (family < 0.4) expr = soup(3);
    else if (family < 0.7) expr = pick(shapes)();
    else expr = pick(lib)();
    out.push({ expr, data: generatorData });
  }
  return out;
}
