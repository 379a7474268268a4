// Opens N WebSocket connections to one conversation of a running weft
// serve's chat channel and holds them idle; prints when all are open. Used
// by idle_connections.sh. Needs node's WebSocket (node --experimental-websocket on node 20).
//   node --experimental-websocket idle_connections.mjs PORT CHANNEL TOKEN N
const [port, channel, token, n] = [Number(process.argv[2]), process.argv[3], process.argv[4], Number(process.argv[5])];
let open = 0;
let failed = 0;
const started = Date.now();
const sockets = [];
const report = () => {
  if (open + failed === n) console.log(`open=${open} failed=${failed} seconds=${(Date.now() - started) / 1000}`);
};
function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/${channel}?token=${encodeURIComponent(token)}`);
  let counted = false;
  ws.onmessage = (e) => {
    if (!counted && String(e.data).includes('"ready"')) {
      counted = true;
      open++;
      report();
    }
  };
  ws.onerror = () => {
    if (!counted) {
      counted = true;
      failed++;
      report();
    }
  };
  sockets.push(ws);
}
// In waves, so that the listen backlog is not overrun.
let made = 0;
const wave = () => {
  for (let i = 0; i < 500 && made < n; i++, made++) connect();
  if (made < n) setTimeout(wave, 50);
};
wave();
setInterval(() => {}, 1 << 30);
