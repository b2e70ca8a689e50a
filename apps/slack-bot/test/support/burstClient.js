// A burst of signed slash commands from distinct users, as its own plain-node process so the
// measured acknowledgement times are the bot's, not the test runner's. Prints one JSON line.
// Every body is built and signed before the first is sent, and each turn of the event loop sends
// all that are due: on a loaded machine the burst still leaves within its spread.
// Usage: node burstClient.js BOT_URL SIGNING_SECRET RESPONSE_URL_BASE COUNT SPREAD_MS TEXT
const { request, Agent } = require('node:http');
const { createHmac } = require('node:crypto');

const [botUrl, secret, responseBase, countText, spreadText, text] = process.argv.slice(2);
const count = Number(countText);
const spreadMs = Number(spreadText);
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const url = new URL(`${botUrl}/slack/events`);

const ts = String(Math.floor(Date.now() / 1000));
const signed = Array.from({ length: count }, (_, i) => {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: 'C0CHAN1',
    channel_name: 'incidents',
    user_id: `UBURST${i}`,
    user_name: `user${i}`,
    command: '/loopscope',
    text,
    api_app_id: 'A0001',
    response_url: `${responseBase}${i}`,
    trigger_id: `${i}.1.a`,
  }).toString();
  return { body, signature: `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}` };
});

function post({ body, signature }) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': ts,
          'x-slack-signature': signature,
        },
      },
      (res) => {
        let t = '';
        res.on('data', (d) => (t += d));
        res.on('end', () =>
          resolve({ status: res.statusCode, ms: performance.now() - started, busy: t.includes('answering a lot of questions') }),
        );
      },
    );
    req.on('error', (e) => resolve({ status: 0, ms: performance.now() - started, error: e.code }));
    req.end(body);
  });
}

(async () => {
  const started = performance.now();
  const pending = [];
  while (pending.length < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * count) / spreadMs) + 1);
    while (pending.length < due) pending.push(post(signed[pending.length]));
    await new Promise((r) => setTimeout(r, 1));
  }
  const sentMs = performance.now() - started;
  const results = await Promise.all(pending);
  process.stdout.write(JSON.stringify({ sentMs, results }) + '\n');
  agent.destroy();
})();
