// Which answers of a view's repeated loads to show, beside the live changes
// applied to what it shows (ui.tsx's useLoad). A load answers for the moment
// the server read it:
// - one that answers after a later load's answer is dropped: never older
//   over newer, and, as loads started again and again while events come
//   each drop only what an answer already replaced, one is always shown;
// - one that a live change overtook is older than what is shown (it would
//   hide the change), so it is made again, a few times before it is taken
//   as it is;
// - once the view shows something else (other deps), what loads for the
//   old one is dropped.
export type Verdict = "show" | "drop" | "again";

export class LoadOrder {
  private started = 0;
  private shown = 0;
  private changes = 0;

  // A load begins: its id (for `answered`).
  start(): number {
    return ++this.started;
  }
  // A read (a first one or one made again) begins: the changes it has seen.
  reading(): number {
    return this.changes;
  }
  // A live change is applied to what is shown.
  changed(): void {
    this.changes++;
  }
  // The view now shows something else: loads begun before do not count.
  reset(): void {
    this.shown = this.started + 1;
  }

  // Load `id` answered, its read having begun after `seen` changes, with
  // `retries` left: show it, drop it, or read again.
  answered(id: number, seen: number, retries: number, ok = true): Verdict {
    if (id < this.shown) return "drop";
    if (ok && this.changes !== seen && retries > 0) return "again";
    this.shown = id;
    return "show";
  }
}
