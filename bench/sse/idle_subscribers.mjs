// Opens N Server-Sent Events subscriptions to a running weft serve and holds
// them idle; prints when all are established. Used by idle_subscribers.sh.
//   node idle_subscribers.mjs PORT KEY N
import http from 'node:http';

const [port, key, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let open = 0;
let failed = 0;
const started = Date.now();
function subscribe() {
  const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', agent,
                         headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) { failed++; res.resume(); return; }
    open++;
    res.on('data', () => {});
    if (open + failed === n) console.log(`open=${open} failed=${failed} seconds=${(Date.now() - started) / 1000}`);
  });
  req.on('error', () => { failed++; if (open + failed === n) console.log(`open=${open} failed=${failed}`); });
}
// In waves, so that the listen backlog is not overrun.
let made = 0;
const wave = () => {
  for (let i = 0; i < 500 && made < n; i++, made++) subscribe();
  if (made < n) setTimeout(wave, 50);
};
wave();
setInterval(() => {}, 1 << 30);
