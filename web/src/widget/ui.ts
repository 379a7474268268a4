// The widget's DOM: a launcher and a chat panel in a shadow root (the
// site's styles do not reach in; CSS variables do, for theming). User and
// model text is only ever set as text, never parsed as HTML.
import type { Conversation, ChatMessage } from "./conversation";
import type { LinkState } from "./transport";

export interface UiOptions {
  title: string;
  placeholder: string;
  onSend: (text: string, payload?: string) => void;
  onOpen: () => void;
  // Files the visitor picked (absent: no attach button).
  onAttach?: (files: File[]) => void;
  // Where a file of the conversation is downloaded.
  fileUrl: (id: string) => string;
}

const STYLE = `
:host { all: initial; font-family: var(--weft-font, system-ui, sans-serif); }
* { box-sizing: border-box; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
  border: none; cursor: pointer; background: var(--weft-accent, #2f5bea); color: var(--weft-on-accent, #fff);
  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; z-index: 2147483000; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid var(--weft-focus, #ffb000); outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 88px; width: min(380px, calc(100vw - 24px));
  height: min(560px, calc(100vh - 110px)); display: flex; flex-direction: column; overflow: hidden;
  background: var(--weft-bg, #fff); color: var(--weft-fg, #1d1d1f); border-radius: var(--weft-radius, 14px);
  box-shadow: 0 8px 30px rgba(0,0,0,.25); z-index: 2147483000; }
.panel[hidden] { display: none; }
@media (max-width: 480px) { .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; border-radius: 0; }
  .panel:not([hidden]) + .launcher { display: none; } }
header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px;
  background: var(--weft-accent, #2f5bea); color: var(--weft-on-accent, #fff); font-weight: 600; }
header button { background: none; border: none; color: inherit; font-size: 20px; cursor: pointer; }
.state { font-size: 12px; font-weight: 400; opacity: .85; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; word-wrap: break-word; line-height: 1.35; }
.msg.user { align-self: flex-end; background: var(--weft-accent, #2f5bea); color: var(--weft-on-accent, #fff); }
.msg.assistant, .msg.agent { align-self: flex-start; background: var(--weft-bubble, #eef0f4); }
.msg.agent { border: 1px solid var(--weft-accent, #2f5bea); }
.msg.system, .notice { align-self: center; font-size: 12px; opacity: .75; }
.msg.pending { opacity: .6; }
.msg.failed { outline: 1px solid #c0392b; }
.who { display: block; font-size: 11px; opacity: .7; margin-bottom: 2px; }
.replies { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; }
.replies button, .buttons a, .buttons button { border: 1px solid var(--weft-accent, #2f5bea); color: var(--weft-accent, #2f5bea);
  background: transparent; border-radius: 16px; padding: 5px 11px; cursor: pointer; font: inherit; text-decoration: none; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid rgba(0,0,0,.08); }
textarea { flex: 1; resize: none; height: 40px; padding: 9px; border-radius: 10px; border: 1px solid rgba(0,0,0,.2); font: inherit; color: inherit; background: inherit; }
form button { border: none; border-radius: 10px; padding: 0 14px; background: var(--weft-accent, #2f5bea); color: var(--weft-on-accent, #fff); cursor: pointer; font: inherit; }
.attach { background: transparent; color: inherit; border: 1px solid rgba(0,0,0,.2); padding: 0 10px; }
.files { display: flex; flex-direction: column; gap: 2px; margin-top: 4px; }
.files a { color: inherit; font-size: 13px; }
.typing { font-size: 12px; opacity: .7; padding: 0 14px 6px; min-height: 18px; }
`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A speech bubble, drawn (no font has to have the glyph).
function chatIcon(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "26");
  svg.setAttribute("height", "26");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  svg.append(path);
  return svg;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class WidgetUi {
  readonly root: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly replies: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly state: HTMLElement;
  private readonly input: HTMLTextAreaElement;

  constructor(host: HTMLElement, private readonly options: UiOptions) {
    this.root = host.attachShadow({ mode: "open" });
    const style = el("style");
    style.textContent = STYLE;
    this.launcher = el("button", "launcher");
    this.launcher.append(chatIcon());
    this.launcher.type = "button";
    this.launcher.setAttribute("aria-label", `Open chat: ${options.title}`);
    this.launcher.setAttribute("aria-expanded", "false");
    this.panel = el("section", "panel");
    this.panel.hidden = true;
    this.panel.setAttribute("role", "dialog");
    this.panel.setAttribute("aria-label", options.title);
    const header = el("header");
    const title = el("span", "", options.title);
    this.state = el("span", "state");
    title.append(" ", this.state);
    const close = el("button", "", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    header.append(title, close);
    this.log = el("div", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.tabIndex = 0;
    this.typing = el("div", "typing");
    this.typing.setAttribute("aria-live", "polite");
    this.replies = el("div", "replies");
    const form = el("form");
    this.input = el("textarea");
    this.input.placeholder = options.placeholder;
    this.input.setAttribute("aria-label", "Your message");
    const send = el("button", "", "Send");
    send.type = "submit";
    if (options.onAttach) {
      const picker = el("input");
      picker.type = "file";
      picker.multiple = true;
      picker.hidden = true;
      const attach = el("button", "attach", "+");
      attach.type = "button";
      attach.setAttribute("aria-label", "Attach a file");
      attach.addEventListener("click", () => picker.click());
      picker.addEventListener("change", () => {
        const files = Array.from(picker.files ?? []);
        picker.value = "";
        if (files.length) options.onAttach!(files);
      });
      form.append(picker, attach);
    }
    form.append(this.input, send);
    this.panel.append(header, this.log, this.typing, this.replies, form);
    this.root.append(style, this.panel, this.launcher);

    this.launcher.addEventListener("click", () => this.toggle(this.panel.hidden));
    close.addEventListener("click", () => this.toggle(false));
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.toggle(false);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.submit();
      }
    });
  }

  toggle(open: boolean): void {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      this.options.onOpen();
      this.input.focus();
    } else {
      this.launcher.focus();
    }
  }

  setState(s: LinkState): void {
    this.state.textContent = s === "open" ? "" : s === "connecting" ? "· connecting…" : "· offline";
  }

  render(c: Conversation): void {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const children: HTMLElement[] = [];
    let personShown = false;
    for (const m of c.messages) {
      if (m.role === "agent" && !personShown) {
        children.push(el("div", "notice", `${m.content.by ?? "A person"} has joined the conversation`));
        personShown = true;
      }
      children.push(this.message(m));
    }
    for (const text of c.streaming.values()) children.push(el("div", "msg assistant", text));
    for (const p of c.pending) {
      const b = el(
        "div",
        `msg user pending${p.failed ? " failed" : ""}`,
        p.text ?? p.payload ?? (p.attachments ?? []).map((a) => `📎 ${a.name}`).join("\n"),
      );
      if (p.failed) b.title = p.failed;
      children.push(b);
    }
    this.log.replaceChildren(...children);
    this.typing.textContent = c.typing && c.streaming.size === 0 ? "…" : "";
    this.typing.setAttribute("aria-label", c.typing ? "The assistant is typing" : "");
    this.replies.replaceChildren(
      ...c.quickReplies.map((q) => {
        const b = el("button", "", q.title);
        b.type = "button";
        b.addEventListener("click", () => this.options.onSend(q.title, q.payload ?? q.title));
        return b;
      }),
    );
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  private message(m: ChatMessage): HTMLElement {
    if (m.kind === "handover") {
      return el("div", "notice", "You will be connected with a person shortly.");
    }
    const b = el("div", `msg ${m.role}`);
    if (m.role === "agent") b.append(el("span", "who", m.content.by ?? "Agent"));
    b.append(document.createTextNode(m.content.text ?? m.content.payload ?? ""));
    if (m.content.attachments?.length) {
      const files = el("div", "files");
      for (const f of m.content.attachments) {
        const a = el("a", "", `📎 ${f.name} (${size(f.size)})`);
        a.href = this.options.fileUrl(f.id);
        a.setAttribute("download", f.name);
        a.rel = "noopener";
        files.append(a);
      }
      b.append(files);
    }
    if (m.content.buttons?.length) {
      const row = el("div", "buttons");
      for (const btn of m.content.buttons) {
        if (btn.url && /^https?:\/\//i.test(btn.url)) {
          const a = el("a", "", btn.title);
          a.href = btn.url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          row.append(a);
        } else {
          const x = el("button", "", btn.title);
          x.type = "button";
          x.addEventListener("click", () => this.options.onSend(btn.title, btn.payload ?? btn.title));
          row.append(x);
        }
      }
      b.append(row);
    }
    return b;
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.options.onSend(text);
  }
}
