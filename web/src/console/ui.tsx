// Small pieces the views share: status badges, times, JSON, errors, and a
// hook that loads from the API.
import { type StateUpdater, useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "./api";
import { LoadOrder } from "./load_order";

export function Status(props: { status: string }) {
  return <span class={`badge st-${props.status}`}>{props.status}</span>;
}

export function when(ms?: number): string {
  if (!ms) return "";
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

export function duration(start?: number, end?: number): string {
  if (!start || !end) return "";
  const ms = end - start;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function Json(props: { value: unknown; label?: string }) {
  if (props.value === undefined) return null;
  return (
    <pre class="json" aria-label={props.label}>
      {typeof props.value === "string" ? props.value : JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p class="error-box" role="alert">
      {errorText(props.error)}
    </p>
  );
}

// Loads `load()` when `deps` change; `reload` loads again (after a change
// or a live event) without blanking what is shown; `setData` applies a live
// change. Which answers are shown: LoadOrder.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const order = useRef(new LoadOrder()).current;
  const reload = useCallback(() => {
    const id = order.start();
    const attempt = (retries: number) => {
      const seen = order.reading();
      load().then(
        (d) => {
          const verdict = order.answered(id, seen, retries);
          if (verdict === "again") return attempt(retries - 1);
          if (verdict === "drop") return;
          setState(d);
          setError(undefined);
        },
        (e) => {
          if (order.answered(id, seen, retries, false) === "show") setError(e);
        },
      );
    };
    attempt(4);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  const setData = useCallback((change: StateUpdater<T | undefined>) => {
    order.changed();
    setState(change);
  }, []);
  useEffect(() => {
    order.reset();
    setState(undefined);
    setError(undefined);
    reload();
  }, [reload]);
  return { data, error, reload, setData };
}

// Runs an action (a POST), keeping its error and whether it is under way.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async <T,>(f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await f();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
