// A conversation as the widget knows it: the messages the server stored
// (ordered and deduplicated by seq), what the visitor sent that the server
// has not acknowledged yet, text being streamed, typing. Pure logic, no DOM:
// unit-tested with node's test runner.

export type Role = "user" | "assistant" | "agent" | "system";

export interface QuickReply {
  title: string;
  payload?: string;
}

export interface Button {
  title: string;
  url?: string;
  payload?: string;
}

// A file sent with a message (POST /chat/<channel>/uploads answered it).
export interface Attachment {
  id: string;
  name: string;
  size: number;
  type: string;
}

export interface MessageContent {
  id?: string;
  text?: string;
  payload?: string;
  attachments?: Attachment[];
  quick_replies?: (string | QuickReply)[];
  buttons?: Button[];
  queue?: string;
  reason?: string;
  by?: string;
}

export interface ChatMessage {
  seq: number;
  role: Role;
  kind: string;
  content: MessageContent;
  created_ms: number;
}

// What the visitor sends: `id` is the client's own, so that sending it again
// after a reconnection stores nothing twice.
export interface Outgoing {
  id: string;
  text?: string;
  payload?: string;
  attachments?: Attachment[];
  failed?: string; // why the server refused it
}

// Frames the server sends (see docs/server.md, "Chat").
export type ServerFrame =
  | { type: "ready"; conversation: string }
  | { type: "message"; message: ChatMessage }
  | { type: "ack"; id: string; seq: number }
  | { type: "delta"; run_id: string; path: string; delta: string }
  | { type: "typing"; on: boolean }
  | { type: "error"; id?: string; error: { code: string; message: string } }
  | { type: "pong" };

export class Conversation {
  messages: ChatMessage[] = [];
  pending: Outgoing[] = [];
  // Text streamed by steps, by "<run>/<path>", until the run's next message.
  streaming = new Map<string, string>();
  typing = false;
  // Set once the conversation was handed to a person (and cleared when the
  // workflow speaks again).
  withPerson = false;
  private seen = new Set<number>();
  private nextLocal = 0;

  // The highest seq held: what a reconnection asks to continue after.
  get lastSeq(): number {
    return this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1].seq;
  }

  // Applies a server frame; returns whether anything shown changed.
  apply(frame: ServerFrame): boolean {
    switch (frame.type) {
      case "message":
        return this.add(frame.message);
      case "ack": {
        const before = this.pending.length;
        this.pending = this.pending.filter((p) => p.id !== frame.id);
        return before !== this.pending.length;
      }
      case "delta": {
        const key = `${frame.run_id}/${frame.path}`;
        this.streaming.set(key, (this.streaming.get(key) ?? "") + frame.delta);
        return true;
      }
      case "typing":
        if (this.typing === frame.on) return false;
        this.typing = frame.on;
        return true;
      case "error": {
        const p = this.pending.find((x) => x.id === frame.id);
        if (!p) return false;
        p.failed = frame.error.message;
        return true;
      }
      default:
        return false;
    }
  }

  // A message from the log (live or the backlog): kept once, in seq order.
  add(m: ChatMessage): boolean {
    if (this.seen.has(m.seq)) return false;
    this.seen.add(m.seq);
    if (m.role === "user" && m.content.id) {
      this.pending = this.pending.filter((p) => p.id !== m.content.id);
    }
    if (m.role === "assistant" || m.role === "system") {
      this.streaming.clear();
      this.typing = false;
    }
    if (m.kind === "handover" || m.role === "agent") this.withPerson = true;
    if (m.role === "assistant" && m.kind !== "handover") this.withPerson = false;
    let i = this.messages.length;
    while (i > 0 && this.messages[i - 1].seq > m.seq) i--;
    this.messages.splice(i, 0, m);
    return true;
  }

  // A new message from the visitor, waiting for its acknowledgement.
  compose(text: string, payload?: string, now: number = Date.now(), attachments?: Attachment[]): Outgoing {
    const out: Outgoing = { id: `${now.toString(36)}-${(this.nextLocal++).toString(36)}-${randomPart()}` };
    if (text) out.text = text;
    if (payload !== undefined) out.payload = payload;
    if (attachments?.length) out.attachments = attachments;
    this.pending.push(out);
    return out;
  }

  // Quick replies offered by the last message, when it is the last word.
  get quickReplies(): QuickReply[] {
    const last = this.messages[this.messages.length - 1];
    if (!last || last.role === "user" || !last.content.quick_replies) return [];
    return last.content.quick_replies.map((q) => (typeof q === "string" ? { title: q, payload: q } : q));
  }
}

function randomPart(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
