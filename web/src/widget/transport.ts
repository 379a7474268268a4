// The connection to /chat/<channel>: a WebSocket that reconnects with the
// last seq it saw (so nothing is lost or shown twice), falling back to
// Server-Sent Events + POST when WebSockets do not get through.
import type { Attachment, Outgoing, ServerFrame } from "./conversation";

export interface Session {
  conversation: string;
  token: string;
}

export type LinkState = "connecting" | "open" | "offline";

export class Transport {
  private ws: WebSocket | null = null;
  private sse: EventSource | null = null;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly base: string, // "https://host"
    private readonly channel: string,
    private readonly session: Session,
    private readonly lastSeq: () => number,
    private readonly onFrame: (f: ServerFrame) => void,
    private readonly onState: (s: LinkState) => void,
  ) {}

  open(): void {
    this.closed = false;
    if (this.failures >= 3 || typeof WebSocket === "undefined") {
      this.openEvents();
    } else {
      this.openSocket();
    }
  }

  // Sends a file; its answer goes into a message's attachments.
  async upload(file: File): Promise<Attachment> {
    const r = await fetch(
      `${this.base}/chat/${encodeURIComponent(this.channel)}/uploads?name=${encodeURIComponent(file.name || "file")}`,
      { method: "POST", headers: { Authorization: `Bearer ${this.session.token}` }, body: file },
    );
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body?.error?.message ?? `upload failed (${r.status})`);
    return body as Attachment;
  }

  // Where the visitor downloads a file of the conversation.
  fileUrl(id: string): string {
    return `${this.base}/chat/${encodeURIComponent(this.channel)}/uploads/${encodeURIComponent(id)}?token=${encodeURIComponent(this.session.token)}`;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
    this.sse?.close();
  }

  // Sends a message; false when it must wait for the connection (it is then
  // sent again on reconnection: the same id is stored once).
  send(m: Outgoing): boolean {
    const body: Record<string, unknown> = { id: m.id };
    if (m.text !== undefined) body.text = m.text;
    if (m.payload !== undefined) body.payload = m.payload;
    if (m.attachments) body.attachments = m.attachments.map((a) => ({ id: a.id }));
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "message", ...body }));
      return true;
    }
    if (this.sse) {
      void this.post(body);
      return true;
    }
    return false;
  }

  private url(path: string, scheme?: "ws"): string {
    const u = new URL(`${this.base}/chat/${encodeURIComponent(this.channel)}${path}`);
    if (scheme) u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", this.session.token);
    u.searchParams.set("after", String(this.lastSeq()));
    return u.toString();
  }

  private openSocket(): void {
    this.onState("connecting");
    const ws = new WebSocket(this.url("", "ws"));
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.onState("open");
    };
    ws.onmessage = (e) => {
      try {
        this.onFrame(JSON.parse(String(e.data)) as ServerFrame);
      } catch {
        // not a frame: ignored
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!opened) this.failures++;
      this.retry();
    };
  }

  private openEvents(): void {
    this.onState("connecting");
    const es = new EventSource(this.url("/events"));
    this.sse = es;
    const deliver = (e: MessageEvent) => {
      try {
        this.onFrame(JSON.parse(String(e.data)) as ServerFrame);
      } catch {
        // not a frame: ignored
      }
    };
    es.addEventListener("message", deliver);
    es.addEventListener("live", deliver);
    es.onopen = () => this.onState("open");
    es.onerror = () => this.onState(es.readyState === EventSource.CLOSED ? "offline" : "connecting");
  }

  private async post(body: Record<string, unknown>): Promise<void> {
    try {
      const r = await fetch(`${this.base}/chat/${encodeURIComponent(this.channel)}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.session.token}` },
        body: JSON.stringify(body),
      });
      const answer = (await r.json()) as { seq?: number; error?: { code: string; message: string } };
      if (r.ok && answer.seq !== undefined) this.onFrame({ type: "ack", id: String(body.id), seq: answer.seq });
      else if (answer.error) this.onFrame({ type: "error", id: String(body.id), error: answer.error });
    } catch {
      this.onState("offline");
    }
  }

  private retry(): void {
    if (this.closed) return;
    this.onState("offline");
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.failures, 5));
    this.timer = setTimeout(() => this.open(), delay);
  }
}

// Opens a conversation, or reuses the one kept for this page's site.
export async function openSession(base: string, channel: string, user?: unknown): Promise<Session> {
  const key = `weft-chat:${base}:${channel}`;
  const kept = readKept(key);
  if (kept) {
    // Still known to the server? (A token of a reset database, or of another
    // server, opens a new conversation.)
    const check = await fetch(
      `${base}/chat/${encodeURIComponent(channel)}/messages?after=${Number.MAX_SAFE_INTEGER}&token=${encodeURIComponent(kept.token)}`,
    );
    if (check.status !== 401 && check.status !== 404) return kept;
  }
  const r = await fetch(`${base}/chat/${encodeURIComponent(channel)}/conversations`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(user ? { user } : {}),
  });
  if (!r.ok) throw new Error(`the chat is not available (${r.status})`);
  const s = (await r.json()) as Session;
  try {
    localStorage.setItem(key, JSON.stringify({ conversation: s.conversation, token: s.token }));
  } catch {
    // storage refused (private mode): the conversation lasts this page
  }
  return s;
}

function readKept(key: string): Session | null {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? "null") as Session | null;
    return v && typeof v.token === "string" && typeof v.conversation === "string" ? v : null;
  } catch {
    return null;
  }
}
