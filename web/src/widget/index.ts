// The chat widget: <script src="https://HOST/widget.js" data-channel="support"></script>
// adds a chat launcher to the page, talking to that weft server's chat
// channel. Optional attributes: data-title, data-placeholder, data-open
// ("true" opens it at once), data-user (JSON {id, name?, signature} signed
// by the site with the channel's identity secret), data-attachments ("off"
// hides the attach button).
import { Conversation } from "./conversation";
import { openSession, Transport } from "./transport";
import { WidgetUi } from "./ui";

function start(script: HTMLScriptElement): void {
  const channel = script.dataset.channel ?? "";
  if (!channel) {
    console.error("weft widget: the script tag needs data-channel");
    return;
  }
  const base = new URL(script.src, location.href).origin;
  const host = document.createElement("div");
  host.id = `weft-chat-${channel}`;
  document.body.append(host);
  const conversation = new Conversation();
  let transport: Transport | null = null;
  let starting: Promise<void> | null = null;

  const ui = new WidgetUi(host, {
    title: script.dataset.title ?? "Chat with us",
    placeholder: script.dataset.placeholder ?? "Write a message…",
    onOpen: () => {
      void connect();
    },
    onSend: (text, payload) => {
      const m = conversation.compose(text, payload);
      ui.render(conversation);
      void connect().then(() => transport?.send(m));
    },
    onAttach:
      script.dataset.attachments === "off"
        ? undefined
        : (files) => {
            void connect().then(async () => {
              if (!transport) return;
              try {
                const sent = [];
                for (const f of files) sent.push(await transport.upload(f));
                const m = conversation.compose("", undefined, Date.now(), sent);
                ui.render(conversation);
                transport.send(m);
              } catch (e) {
                const m = conversation.compose(files.map((f) => f.name).join(", "));
                m.failed = e instanceof Error ? e.message : String(e);
                ui.render(conversation);
              }
            });
          },
    fileUrl: (id) => transport?.fileUrl(id) ?? "#",
  });

  const connect = (): Promise<void> => {
    starting ??= (async () => {
      let user: unknown;
      if (script.dataset.user) user = JSON.parse(script.dataset.user);
      const session = await openSession(base, channel, user);
      transport = new Transport(
        base,
        channel,
        session,
        () => conversation.lastSeq,
        (frame) => {
          if (frame.type === "ready") {
            for (const p of conversation.pending) transport?.send(p); // not acknowledged before
          }
          if (conversation.apply(frame)) ui.render(conversation);
        },
        (s) => ui.setState(s),
      );
      transport.open();
    })().catch((e: unknown) => {
      starting = null;
      ui.setState("offline");
      console.error("weft widget:", e);
    });
    return starting;
  };

  ui.render(conversation);
  if (script.dataset.open === "true") ui.toggle(true);
}

const script = document.currentScript as HTMLScriptElement | null;
if (script) {
  if (document.body) start(script);
  else document.addEventListener("DOMContentLoaded", () => start(script));
}
