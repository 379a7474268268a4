// Server-Sent Events from /api/v1/events or a run's stream, closed when
// the view that opened it goes away. The browser reconnects by itself with
// Last-Event-ID; a `reset` (events missed beyond what the server keeps)
// asks the view to load afresh.
import { useEffect, useRef } from "preact/hooks";

export type Handlers = Record<string, (data: any) => void>;

export function useEvents(url: string | null, handlers: Handlers) {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url, { withCredentials: true });
    const kinds = ["run", "step", "task", "message", "delta", "snapshot", "reset"];
    for (const kind of kinds) {
      source.addEventListener(kind, (e) => {
        const h = latest.current[kind];
        if (!h) return;
        try {
          h(JSON.parse((e as MessageEvent).data));
        } catch {
          // a frame that is not JSON is ignored
        }
      });
    }
    return () => source.close();
  }, [url]);
}
