// N conversations at once on a running weft serve's chat channel, each
// sending M messages over its WebSocket, one after the other's reply: the
// time from each message to the workflow's answer, and messages per second
// over the whole exchange. Each conversation comes from its own address
// (X-Forwarded-For; the server trusts 127.0.0.1 as a proxy), as visitors
// behind a load balancer do. Used by conversations.sh.
//   node --experimental-websocket conversations.mjs PORT CHANNEL N M
const [port, channel, n, m] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const base = `http://127.0.0.1:${port}`;
// Questions the support-triage example answers itself (not urgent, clear).
const QUESTIONS = [
  "Can you send me a copy of my receipt?",
  "How do I change the credit card on file?",
  "How do I change my username?",
  "Do you offer a discount for nonprofits?",
  "Is there an app for iPhone?",
  "What are your support hours?",
  "How do I turn on two-factor authentication?",
  "Could you add our company address to future invoices?",
  "Icons are blurry on retina screens",
  "I'd like to rename our team account",
];
const latencies = [];
let replies = 0;
let handovers = 0;
let failures = 0;
let done = 0;
const started = performance.now();

function finish() {
  if (++done < n) return;
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
  console.log(
    `conversations=${n} messages=${n * m} replies=${replies} handovers=${handovers} failures=${failures} ` +
      `seconds=${seconds.toFixed(2)} messages_per_s=${(replies / seconds).toFixed(0)} ` +
      `p50_ms=${q(0.5)} p90_ms=${q(0.9)} p99_ms=${q(0.99)} max_ms=${q(1)}`,
  );
  process.exit(failures > 0 ? 1 : 0);
}

async function conversation(i) {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const r = await fetch(`${base}/chat/${channel}/conversations`, { method: "POST", headers: { "X-Forwarded-For": address } });
  if (!r.ok) throw new Error(`open: ${r.status} ${await r.text()}`);
  const { token } = await r.json();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/${channel}?token=${encodeURIComponent(token)}`);
  let sent = 0;
  let since = 0;
  const send = () => {
    since = performance.now();
    ws.send(JSON.stringify({ type: "message", id: `m${sent}`, text: QUESTIONS[(i + sent) % QUESTIONS.length] }));
    sent++;
  };
  await new Promise((resolve, reject) => {
    ws.onmessage = (e) => {
      const f = JSON.parse(String(e.data));
      if (f.type === "ready") return send();
      if (f.type === "error") return reject(new Error(JSON.stringify(f.error)));
      if (f.type !== "message" || f.message.role === "user") return;
      latencies.push(performance.now() - since);
      replies++;
      if (f.message.kind === "handover") {
        handovers++; // the rest of this conversation is for a person
        ws.close();
        return resolve();
      }
      if (sent < m) send();
      else {
        ws.close();
        resolve();
      }
    };
    ws.onerror = (e) => reject(new Error(`websocket error: ${e?.error?.message ?? e?.message ?? "?"} ${e?.error?.cause?.code ?? ""}`));
  });
}

// Conversations arrive in waves of 100 (every 20 ms), so that the listen
// backlog is not overrun; then all are under way at once.
let made = 0;
const wave = () => {
  for (let k = 0; k < 100 && made < n; k++, made++) {
    const i = made;
    conversation(i).then(finish, (e) => {
      failures++;
      if (failures <= 5) console.error(`conversation ${i}: ${e.message}`);
      finish();
    });
  }
  if (made < n) setTimeout(wave, 20);
};
wave();
