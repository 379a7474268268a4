// A line diff of two versions of a workflow (Myers' O(ND) algorithm). Two
// files that differ in more than `maxEdits` lines are shown as one removed
// and one added block rather than searched further.
export type DiffLine = { op: " " | "-" | "+"; text: string; a?: number; b?: number };

export function diffLines(before: string, after: string, maxEdits = 2000): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  if (found < 0) {
    return [
      ...a.map((text, i) => ({ op: "-" as const, text, a: i + 1 })),
      ...b.map((text, i) => ({ op: "+" as const, text, b: i + 1 })),
    ];
  }
  // Walk back through the saved frontiers.
  const out: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && prev[offset + k - 1]! < prev[offset + k + 1]!);
    const pk = down ? k + 1 : k - 1;
    const px = prev[offset + pk]!;
    const py = px - pk;
    while (x > (down ? px : px + 1) && y > (down ? py + 1 : py)) {
      out.push({ op: " ", text: a[x - 1]!, a: x, b: y });
      x--;
      y--;
    }
    if (down) {
      out.push({ op: "+", text: b[y - 1]!, b: y });
      y--;
    } else {
      out.push({ op: "-", text: a[x - 1]!, a: x });
      x--;
    }
  }
  while (x > 0 && y > 0) {
    out.push({ op: " ", text: a[x - 1]!, a: x, b: y });
    x--;
    y--;
  }
  return out.reverse();
}
