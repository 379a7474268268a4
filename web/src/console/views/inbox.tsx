// What waits for a person: approvals, questions and handovers, with the
// context their step gives. A reviewer approves, refuses or edits; an
// agent answers a question or takes a handed-over conversation, talks with
// the user through the widget, and hands it back to the workflow.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, may, me, post, query } from "../api";
import { useEvents } from "../live";
import { go, href, route } from "../router";
import { SchemaForm, type Schema } from "../schema_form";
import { ErrorBox, Json, useAction, useLoad, when } from "../ui";

const KINDS: Record<string, string> = { approval: "Approval", user_input: "Question", handover: "Handover" };

export function Inbox() {
  const kind = route.value.query.get("kind") ?? "";
  const selected = route.value.query.get("task") ?? "";
  const list = useLoad(() => get(`/api/v1/tasks${query({ kind })}`), [kind]);
  useEvents("/api/v1/events", { task: () => list.reload(), run: () => list.reload(), reset: () => list.reload() });
  const tasks: any[] = list.data?.tasks ?? [];
  const task = tasks.find((t) => t.id === selected);
  return (
    <section>
      <h1>Inbox</h1>
      <nav class="tabs">
        {["", "approval", "user_input", "handover"].map((k) => (
          <a class={kind === k ? "active" : ""} href={href("inbox", undefined, { kind: k })}>
            {k ? `${KINDS[k]}s` : "All"}
          </a>
        ))}
      </nav>
      <ErrorBox error={list.error} />
      <div class="inbox">
        <ul class="tasks" aria-label="Waiting tasks">
          {list.data && tasks.length === 0 && <li class="muted">Nothing waits for a person.</li>}
          {tasks.map((t) => (
            <li class={t.id === selected ? "selected" : ""}>
              <a href={href("inbox", undefined, { kind, task: t.id })}>
                <span class={`badge kind-${t.kind}`}>{KINDS[t.kind] ?? t.kind}</span> <b>{t.task}</b>
                <div class="muted small">
                  {t.workflow} · {when(t.since_ms ?? t.created_ms)}
                  {t.claimed && ` · taken by ${t.claimed.by}`}
                </div>
                {t.data?.reason && <div class="small">{t.data.reason}</div>}
                {t.data?.prompt && <div class="small">{t.data.prompt}</div>}
              </a>
            </li>
          ))}
        </ul>
        <div class="task-pane">
          {selected && !task && list.data && <p class="muted">This task is no longer waiting.</p>}
          {task && <Task key={task.id + task.path} task={task} done={() => { list.reload(); go("inbox", undefined, { kind }); }} reload={list.reload} />}
          {!selected && <p class="muted">Pick a task.</p>}
        </div>
      </div>
    </section>
  );
}

function Task(props: { task: any; done: () => void; reload: () => void }) {
  const t = props.task;
  const action = useAction();
  const complete = async (body: unknown) => {
    if (await action.run(() => post(`/api/v1/tasks/${encodeURIComponent(t.id)}/complete`, body))) props.done();
  };
  const operator = may("operator");
  return (
    <article class="card" aria-label={`${KINDS[t.kind] ?? t.kind}: ${t.task}`}>
      <h2>
        {KINDS[t.kind] ?? t.kind}: {t.task}
      </h2>
      <p class="muted">
        <a href={href("runs", t.run_id)}>run {t.run_id}</a> of {t.workflow} v{t.version}, waiting since {when(t.since_ms)}
        {t.claimed && <> · taken by {t.claimed.by}</>}
      </p>
      {t.kind === "approval" && <Approval task={t} complete={complete} busy={action.busy} operator={operator} />}
      {t.kind === "user_input" && (
        <>
          {t.data?.prompt && <p class="prompt">{t.data.prompt}</p>}
          {operator && (
            <SchemaForm
              schema={{ type: "object", required: ["text"], properties: { text: { type: "string", title: "Answer" } } }}
              submit="Answer"
              busy={action.busy}
              onSubmit={(v) => complete({ payload: v })}
            />
          )}
        </>
      )}
      {t.kind === "handover" && <Handover task={t} complete={complete} reload={props.reload} operator={operator} />}
      {!operator && <p class="muted">Your role ({me.value?.role}) may look but not act.</p>}
      <ErrorBox error={action.error} />
    </article>
  );
}

// The data an approval shows. A reviewer may change the proposed values of
// an `approval` step (its decision carries them as `data`); a sensitive
// action's call (action, inputs) is approved or refused as it is.
function Approval(props: { task: any; complete: (b: unknown) => void; busy: boolean; operator: boolean }) {
  const t = props.task;
  const data = t.data ?? {};
  const [comment, setComment] = useState("");
  const editable = !String(t.path).endsWith("/approval") && data && typeof data === "object" && !Array.isArray(data);
  const schema: Schema = { type: "object", properties: {} };
  if (editable) {
    for (const [k, v] of Object.entries(data)) {
      const type = typeof v === "number" ? "number" : typeof v === "boolean" ? "boolean" : typeof v === "string" ? "string" : "object";
      schema.properties![k] = { type };
    }
  }
  const by = me.value?.user ?? me.value?.key ?? "";
  const commentField = (
    <div class="field">
      <label for="comment">Comment</label>
      <input id="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
    </div>
  );
  if (!props.operator) return <Json value={data} label="What is to be approved" />;
  return (
    <>
      {!editable && <Json value={data} label="What is to be approved" />}
      {editable ? (
        <SchemaForm schema={schema} values={data} submit="Approve" busy={props.busy} onSubmit={(edited) => props.complete({ payload: { approved: true, by, comment, data: edited } })}>
          {commentField}
        </SchemaForm>
      ) : (
        <>
          {commentField}
          <button class="primary" disabled={props.busy} onClick={() => props.complete({ payload: { approved: true, by, comment } })}>
            Approve
          </button>
        </>
      )}
      <button class="danger" disabled={props.busy} onClick={() => props.complete({ payload: { approved: false, by, comment } })}>
        Refuse
      </button>
    </>
  );
}

// A handed-over conversation, live: what the user and the workflow said,
// what the agent writes, and handing it back.
function Handover(props: { task: any; complete: (b: unknown) => void; reload: () => void; operator: boolean }) {
  const t = props.task;
  const conversation: string = t.conversation ?? t.run_id;
  const messages = useLoad(() => get(`/api/v1/conversations/${encodeURIComponent(conversation)}/messages`), [conversation]);
  const [text, setText] = useState("");
  const action = useAction();
  const end = useRef<HTMLDivElement>(null);
  useEvents("/api/v1/events", {
    message: (m) => {
      if (m.conversation !== conversation) return;
      messages.setData((d: any) => {
        const list = d?.messages ?? [];
        if (list.some((x: any) => x.seq === m.seq)) return d;
        return { messages: [...list, m].sort((a: any, b: any) => a.seq - b.seq) };
      });
    },
  });
  useEffect(() => end.current?.scrollIntoView?.({ block: "nearest" }), [messages.data]);
  const mine = t.claimed?.by && t.claimed.by === actor();
  const takenByOther = t.claimed?.by && !mine;
  return (
    <div class="handover">
      {t.data?.reason && (
        <p>
          <b>Why:</b> {t.data.reason} {t.data.queue && <span class="chip">{t.data.queue}</span>}
        </p>
      )}
      <div class="conversation" role="log" aria-label="Conversation">
        {(messages.data?.messages ?? []).map((m: any) => (
          <div class={`msg ${m.role}`} data-seq={m.seq}>
            <span class="who">{m.role === "agent" ? m.content?.by ?? "agent" : m.role}</span>
            <span class="text">
              {m.content?.text ?? (m.kind === "handover" ? "(handed over to a person)" : m.content?.attachments ? "" : JSON.stringify(m.content))}
              {(m.content?.attachments ?? []).map((f: any) => (
                <a class="file" download={f.name} href={`/api/v1/conversations/${encodeURIComponent(conversation)}/uploads/${encodeURIComponent(f.id)}`}>
                  📎 {f.name}
                </a>
              ))}
            </span>
          </div>
        ))}
        <div ref={end} />
      </div>
      <ErrorBox error={messages.error ?? action.error} />
      {props.operator && (
        <>
          {!t.claimed && (
            <button
              disabled={action.busy}
              onClick={async () => {
                if (await action.run(() => post(`/api/v1/tasks/${encodeURIComponent(t.id)}/claim`))) props.reload();
              }}
            >
              Take the conversation
            </button>
          )}
          {!takenByOther && (
            <form
              class="say row"
              onSubmit={async (e) => {
                e.preventDefault();
                if (!text.trim()) return;
                const said = await action.run(() =>
                  post(`/api/v1/conversations/${encodeURIComponent(conversation)}/messages`, { text }),
                );
                if (said) setText("");
              }}
            >
              <input aria-label="Message to the user" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="Write to the user…" />
              <button type="submit" class="primary" disabled={action.busy}>
                Send
              </button>
            </form>
          )}
          {!takenByOther && (
            <button onClick={() => props.complete({ payload: {} })}>Hand back to the workflow</button>
          )}
        </>
      )}
    </div>
  );
}

function actor(): string {
  const m = me.value;
  return m?.user ? `user:${m.user}` : m?.key ? `key:${m.key}` : "";
}
