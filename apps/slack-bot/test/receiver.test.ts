/**
 * The bot's HTTP receiver, end to end: signed requests as Slack sends them, real answers computed
 * by a running exporter on the demo cluster, and the replies recorded by a Slack stand-in.
 */
import { startExporter, type RunningExporter } from '@loopscope/testkit';
import { BOT_TOKEN, SIGNING_SECRET, startBot, closedPortUrl, silentServer, type RunningBot } from './support/runningBot';
import {
  blockKitProblems,
  buttonClickBody,
  directMessageBody,
  mentionBody,
  postToBot,
  slashCommandBody,
  SlackStandIn,
  type Posted,
} from './support/slackStandIn';

jest.setTimeout(60_000);

const DASHBOARD = 'https://grafana.example.com/d/loopscope-loopback-risk/loopback-risk?orgId=1';

let slack: SlackStandIn;
let prod: RunningExporter;
let staging: RunningExporter;
let bot: RunningBot;
const bots: RunningBot[] = [];

function sectionTexts(p: Posted): string[] {
  return p.blocks.filter((b) => b.type === 'section').map((b) => b.text.text as string);
}

function allText(p: Posted): string {
  return p.blocks
    .map((b) => (b.type === 'section' ? b.text.text : b.type === 'context' ? b.elements.map((e: any) => e.text).join(' ') : ''))
    .join('\n');
}

async function exporterJson(base: string, path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(base + path, init);
  return res.json();
}

beforeAll(async () => {
  slack = new SlackStandIn();
  await slack.start();
  [prod, staging] = await Promise.all([startExporter([]), startExporter([])]);
  bot = await startBot(slack, { clusters: [{ name: 'prod', url: prod.url }], dashboardUrl: DASHBOARD });
  bots.push(bot);
});

afterAll(async () => {
  for (const b of bots) await b.stop();
  await Promise.all([prod?.stop(), staging?.stop(), slack?.stop()]);
});

test('probes: /healthz and /readyz answer without a signature; other paths do not', async () => {
  expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  expect(await (await fetch(`${bot.url}/readyz`)).text()).toBe('ready\n');
  expect((await fetch(`${bot.url}/api/v1/report`)).status).toBe(404);
});

test('a bot token Slack rejects stops the start with a message naming the variable, not the token', async () => {
  const rejecting = new SlackStandIn();
  rejecting.rejectToken = true;
  await rejecting.start();
  try {
    const failed = startBot(rejecting, { clusters: [{ name: 'prod', url: prod.url }] });
    await expect(failed).rejects.toThrow('Slack did not accept the bot token (SLACK_BOT_TOKEN): invalid_auth');
    await expect(failed).rejects.not.toThrow(BOT_TOKEN);
  } finally {
    await rejecting.stop();
  }
});

describe('request signatures', () => {
  test('url_verification, correctly signed, gets the challenge back', async () => {
    const body = JSON.stringify({
      token: 'x',
      challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const res = await postToBot(bot.url, body, { secret: SIGNING_SECRET });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  test('forged, stale and missing signatures get 401 and nothing runs; the log never shows a secret', async () => {
    const responseUrl = slack.responseUrl('forged');
    const command = slashCommandBody('why is payments timing out', responseUrl);
    const form = 'application/x-www-form-urlencoded';
    const forged = await postToBot(bot.url, command, { secret: 'not-the-secret', contentType: form });
    const stale = await postToBot(bot.url, command, {
      secret: SIGNING_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 10 * 60,
      contentType: form,
    });
    const missing = await postToBot(bot.url, command, { signature: null, contentType: form });
    const mention = await postToBot(bot.url, mentionBody('why is payments timing out'), { signature: 'v0=' + 'ab'.repeat(32) });
    const challenge = await postToBot(bot.url, JSON.stringify({ challenge: 'x', type: 'url_verification' }), { secret: 'wrong' });
    expect([forged.status, stale.status, missing.status, mention.status, challenge.status]).toEqual([401, 401, 401, 401, 401]);
    await new Promise((r) => setTimeout(r, 700));
    expect(slack.posted.filter((p) => p.path.includes('forged'))).toHaveLength(0);
    expect(slack.posted.filter((p) => p.via === 'chat.postMessage')).toHaveLength(0);
    const log = bot.logs.join('');
    expect(log).toMatch(/signature mismatch/);
    expect(log).toMatch(/stale/);
    expect(log).not.toContain(SIGNING_SECRET);
    expect(log).not.toContain(BOT_TOKEN);
  });
});

describe('answers from the demo cluster through the exporter', () => {
  test('slash command: acknowledged at once, answered through the response URL with blocks and a text fallback', async () => {
    const started = Date.now();
    const ack = await postToBot(bot.url, slashCommandBody('why is payments timing out', slack.responseUrl('cmd-1')), {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(ack.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    const [reply] = await slack.waitFor((p) => p.path === '/respond/cmd-1');
    expect(reply!.response_type).toBe('in_channel');
    expect(blockKitProblems(reply!.blocks)).toEqual([]);

    // The figures are the exporter's own.
    const { explanation } = await exporterJson(prod.url, '/api/v1/explain?target=payments/payments-api');
    const svc = explanation.services[0];
    const sections = sectionTexts(reply!);
    expect(sections[0]!.split('\n')[0]).toMatch(
      /^:red_circle: \*payments\/payments-api\*: \*up to 50%\* of connections from 13 client pods on 2 nodes time out(; checkout-api .*call(s)? it( \(env PAYMENTS_API_URL\))?)?$/,
    );
    expect(sections[0]!.split('\n').slice(1).join('\n')).toBe(explanation.headline);
    expect(reply!.text.split('\n')[0]).toMatch(
      /^payments\/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out(; checkout-api .*call(s)? it( \(env PAYMENTS_API_URL\))?)?$/,
    ); // the known callers follow when the input names them
    expect(allText(reply!)).toContain('taking "payments" to mean payments/payments-api');

    const path = sections.find((s) => s.startsWith('*Packet path*'))!;
    expect(path).toContain(`(client on ${svc.clientNode})`);
    expect(path.split('\n').filter((l) => /^\d+\. /.test(l))).toHaveLength(svc.path.length);
    expect(path).toMatch(/6\. :x: \*reply inside 10\.0\.1\.11\*/);

    const where = sections.find((s) => s.startsWith('*Where*'))!;
    expect(where).toContain(`${svc.where.nodeCount} at-risk nodes, ${svc.where.clientPods} client pods on them`);
    expect(where).toContain('• `payments/deployment/payments-api`: 3 pods on 10.0.1.11, 10.0.1.12 (p up to 0.5)');
    expect(where).toContain(`… and ${svc.where.workloadCount - svc.where.workloads.length} more workloads`);

    const fixes = sections.filter((s) => /^\d+\. \*.+\* → \*/.test(s));
    expect(fixes.map((f) => f.split('\n')[0])).toEqual(
      svc.fixes.map((f: any, i: number) => `${i + 1}. *${f.title}* → *${Math.round(f.predictedProbability * 1000) / 10}%*`),
    );
    expect(fixes[0]).toContain('_Trade-off: ');

    const evidence = sections.find((s) => s.startsWith('*Observed*'))!;
    expect(evidence).toContain('nothing: no node dumps');
    expect(evidence).toContain('*Inferred* from the Kubernetes objects');

    const button = reply!.blocks.find((b) => b.type === 'actions')!.elements[0];
    expect(button.url).toBe(
      'https://grafana.example.com/d/loopscope-loopback-risk/loopback-risk?orgId=1&var-cluster=prod&var-namespace=payments&var-service=payments-api',
    );
    expect(allText(reply!)).toContain('`loopscope explain payments/payments-api`');
  });

  test('app_mention: "why does checkout time out calling payments" answered in the thread with the caller\'s own figure', async () => {
    const body = mentionBody('why does checkout time out calling payments', { ts: '1700000200.000100', channel: 'C0CHAN1' });
    expect((await postToBot(bot.url, body, { secret: SIGNING_SECRET })).status).toBe(200);
    const [reply] = await slack.waitFor((p) => p.via === 'chat.postMessage' && p.thread_ts === '1700000200.000100');
    expect(reply!.channel).toBe('C0CHAN1');
    const { explanation } = await exporterJson(prod.url, '/api/v1/explain?target=checkout/deployment/checkout-api');
    const exposure = explanation.services.find((s: any) => s.name === 'payments-api');
    expect(sectionTexts(reply!)[0]).toBe(
      `:red_circle: *checkout/deployment/checkout-api*: *loopback*, *16.7%* of its new connections time out calling payments/payments-api\n${exposure.headline}`,
    );
    expect(exposure.probability).toBeCloseTo(1 / 6, 5);
    expect(reply!.text).toContain('taking "checkout" to mean checkout/deployment/checkout-api');
    expect(blockKitProblems(reply!.blocks)).toEqual([]);
  });

  test('DM (message, channel_type im): "is prod/payments at risk" gets the short answer in its thread', async () => {
    const body = directMessageBody('is prod/payments at risk?', { ts: '1700000300.000100', channel: 'D0DM0001' });
    expect((await postToBot(bot.url, body, { secret: SIGNING_SECRET })).status).toBe(200);
    const [reply] = await slack.waitFor((p) => p.via === 'chat.postMessage' && p.thread_ts === '1700000300.000100');
    expect(reply!.channel).toBe('D0DM0001');
    const sections = sectionTexts(reply!);
    expect(sections[0]).toMatch(/^:red_circle: \*payments\/payments-api\*: \*up to 50%\* of connections from 13 client pods on 2 nodes/);
    expect(sections.some((s) => s.startsWith('*Packet path*'))).toBe(false);
    expect(sections.find((s) => s.startsWith('*Fixes*'))).toContain('1. *Call the Service by its cluster DNS name* → *0%*');
  });

  test('what-if: "what if payments used Cluster" shows before and after from the exporter', async () => {
    const body = directMessageBody('what if payments used Cluster', { ts: '1700000400.000100' });
    await postToBot(bot.url, body, { secret: SIGNING_SECRET });
    const [reply] = await slack.waitFor((p) => p.thread_ts === '1700000400.000100');
    const expected = await exporterJson(prod.url, '/api/v1/whatif', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ changes: [{ kind: 'trafficPolicy', service: 'payments/payments-api', value: 'Cluster' }] }),
    });
    expect(expected.services[0].after.probability).toBe(0);
    expect(sectionTexts(reply!)).toEqual([
      ':crystal_ball: *What if payments/payments-api used externalTrafficPolicy Cluster*',
      ':large_green_circle: *payments/payments-api*: loopback *18.1%* → safe *0%*',
    ]);
  });

  test('"which services are at risk" lists the looping Services, worst client first', async () => {
    await postToBot(bot.url, mentionBody('which services are at risk?', { ts: '1700000500.000100' }), { secret: SIGNING_SECRET });
    const [reply] = await slack.waitFor((p) => p.thread_ts === '1700000500.000100');
    expect(sectionTexts(reply!)).toEqual([
      ':red_circle: *2 Services at risk* of internal-LB loopback (of 9 Services; 23 of 36 client pods on at-risk nodes)',
      // Ranked by the worst-client figure: search-api's worst client loops 66.7%, payments-api's 50%.
      '1. *<https://grafana.example.com/d/loopscope-loopback-risk/loopback-risk?orgId=1&var-cluster=prod&var-namespace=search&var-service=search-api|search/search-api>* *up to 66.7%* · 10 client pods on 2 nodes · 7 workloads · exposure 13.9%\n' +
        '2. *<https://grafana.example.com/d/loopscope-loopback-risk/loopback-risk?orgId=1&var-cluster=prod&var-namespace=payments&var-service=payments-api|payments/payments-api>* *up to 50%* · 13 client pods on 2 nodes · 10 workloads · exposure 18.1%',
    ]);
  });

  test('help, and a question it does not understand, show what it can do', async () => {
    await postToBot(bot.url, mentionBody('help', { ts: '1700000600.000100' }), { secret: SIGNING_SECRET });
    await postToBot(bot.url, mentionBody('make me a sandwich', { ts: '1700000600.000200' }), { secret: SIGNING_SECRET });
    const [help] = await slack.waitFor((p) => p.thread_ts === '1700000600.000100');
    const [confused] = await slack.waitFor((p) => p.thread_ts === '1700000600.000200');
    expect(sectionTexts(help!)[1]).toContain('`why is payments timing out`');
    expect(sectionTexts(confused!)[0]).toBe(':wave: I did not understand “make me a sandwich”. Here is what I can answer:');
    expect(sectionTexts(confused!)[1]).toContain('`which services are at risk`');
  });

  test('an unknown target gets "did you mean" with buttons; a slash command gets it privately', async () => {
    await postToBot(bot.url, slashCommandBody('why is api timing out', slack.responseUrl('cmd-unknown')), {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    const [reply] = await slack.waitFor((p) => p.path === '/respond/cmd-unknown');
    expect(reply!.response_type).toBe('ephemeral');
    expect(sectionTexts(reply!)[0]).toBe(
      ':mag: I could not find *api*: nothing called "api" in the snapshot (looked for a Service, a workload, a pod and an LB IP).',
    );
    const buttons = reply!.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);
    expect(buttons.map((b: any) => b.text.text)).toEqual([
      'orders/orders-api',
      'search/search-api',
      'reports/reports-api',
      'payments/payments-api',
      'inventory/inventory-api',
    ]);
    expect(JSON.parse(buttons[3].value)).toEqual({ kind: 'explain', target: 'payments/payments-api', detail: 'full' });
    expect(reply!.text).toContain('- payments/payments-api: ask "why is payments/payments-api timing out"');

    await postToBot(bot.url, mentionBody('why is zzzqqq-gateway timing out', { ts: '1700000700.000100' }), { secret: SIGNING_SECRET });
    const [none] = await slack.waitFor((p) => p.thread_ts === '1700000700.000100');
    expect(sectionTexts(none!)[0]).toMatch(/^:mag: I could not find \*zzzqqq-gateway\*/);
  });
});

describe('several clusters', () => {
  test('a target in two clusters gets a short choice; a click answers from the chosen cluster in the thread', async () => {
    const multi = await startBot(slack, {
      clusters: [
        { name: 'prod', url: prod.url },
        { name: 'staging', url: staging.url },
      ],
    });
    bots.push(multi);
    await postToBot(multi.url, mentionBody('why is payments-api timing out', { ts: '1700000800.000100' }), { secret: SIGNING_SECRET });
    const [choice] = await slack.waitFor((p) => p.thread_ts === '1700000800.000100');
    expect(sectionTexts(choice!)[0]).toBe(':thinking_face: "payments-api" is in 2 clusters. Which one?');
    const buttons = choice!.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);
    expect(buttons.map((b: any) => b.text.text)).toEqual(['prod: payments/payments-api', 'staging: payments/payments-api']);
    expect(choice!.text).toContain('staging: payments/payments-api: ask "why is payments/payments-api timing out in staging"');

    const click = buttonClickBody(buttons[1], {
      messageTs: '1700000000.999999',
      threadTs: '1700000800.000100',
      responseUrl: slack.responseUrl('click-1'),
    });
    expect((await postToBot(multi.url, click, { secret: SIGNING_SECRET, contentType: 'application/x-www-form-urlencoded' })).status).toBe(
      200,
    );
    const answers = await slack.waitFor((p) => p.thread_ts === '1700000800.000100', 15_000, 2);
    const answer = answers[1]!;
    expect(sectionTexts(answer)[0]).toMatch(
      /^:red_circle: \*payments\/payments-api\*: \*up to 50%\* of connections from 13 client pods on 2 nodes/,
    );
    expect(allText(answer)).toContain('Cluster *staging*');

    // Naming the cluster answers at once.
    await postToBot(multi.url, mentionBody('why is payments-api timing out in prod', { ts: '1700000800.000200' }), {
      secret: SIGNING_SECRET,
    });
    const [direct] = await slack.waitFor((p) => p.thread_ts === '1700000800.000200');
    expect(allText(direct!)).toContain('Cluster *prod*');
  });

  test('an exporter that is down or slow is named, and the others answer', async () => {
    const silent = await silentServer();
    const down = await startBot(slack, {
      clusters: [
        { name: 'prod', url: prod.url },
        { name: 'staging', url: await closedPortUrl() },
        { name: 'eu', url: silent.url },
      ],
      timeoutMs: 500,
    });
    bots.push(down);
    try {
      const started = Date.now();
      await postToBot(down.url, mentionBody('why is payments timing out', { ts: '1700000900.000100' }), { secret: SIGNING_SECRET });
      const [reply] = await slack.waitFor((p) => p.thread_ts === '1700000900.000100');
      expect(reply!.at - started).toBeLessThan(3000);
      expect(sectionTexts(reply!)[0]).toMatch(
        /^:red_circle: \*payments\/payments-api\*: \*up to 50%\* of connections from 13 client pods on 2 nodes/,
      );
      const warning = reply!.blocks.find((b) => b.type === 'context' && b.elements[0].text.startsWith(':warning:'))!.elements[0]
        .text as string;
      expect(warning).toContain('Cluster *staging* did not answer (connection refused (is the exporter running?);');
      expect(warning).toContain('Cluster *eu* did not answer (no answer within 0.5 s;');
      expect(warning).toContain('This answer comes from the other clusters.');
      expect(reply!.text).toContain('Note: Cluster staging did not answer');
    } finally {
      await silent.stop();
    }
  });

  test('when no cluster answers, the reply says which and why', async () => {
    const dead = await startBot(slack, { clusters: [{ name: 'prod', url: await closedPortUrl() }] });
    bots.push(dead);
    await postToBot(dead.url, mentionBody('why is payments timing out', { ts: '1700001000.000100' }), { secret: SIGNING_SECRET });
    const [reply] = await slack.waitFor((p) => p.thread_ts === '1700001000.000100');
    expect(sectionTexts(reply!)[0]).toBe(':x: Cluster prod did not answer, so I cannot tell right now.');
    expect(allText(reply!)).toMatch(/Cluster \*prod\* did not answer \(connection refused/);
  });
});

describe('limits on who asks and how often', () => {
  test('a user asking too fast gets one friendly reply, then nothing until the window passes; others are answered', async () => {
    const limited = await startBot(slack, { clusters: [{ name: 'prod', url: prod.url }], rateLimit: { questions: 2, perSeconds: 60 } });
    bots.push(limited);
    for (let i = 1; i <= 4; i++)
      await postToBot(limited.url, directMessageBody('is payments at risk', { user: 'U0FAST', ts: `1700001100.00000${i}` }), {
        secret: SIGNING_SECRET,
      });
    await postToBot(limited.url, directMessageBody('is payments at risk', { user: 'U0CALM', ts: '1700001100.000009' }), {
      secret: SIGNING_SECRET,
    });
    await slack.waitFor((p) => p.thread_ts === '1700001100.000009');
    const replies = await slack.waitFor(
      (p) => (p.thread_ts ?? '').startsWith('1700001100.00000') && p.thread_ts !== '1700001100.000009',
      15_000,
      3,
    );
    await new Promise((r) => setTimeout(r, 500));
    const fast = slack.posted.filter((p) => (p.thread_ts ?? '').startsWith('1700001100.00000') && p.thread_ts !== '1700001100.000009');
    expect(fast).toHaveLength(3);
    const told = replies.find((p) => p.text.startsWith('You are asking faster'))!;
    expect(told.text).toMatch(
      /^You are asking faster than I can look things up \(2 questions every minute per person\)\. Try again in \d+ s/,
    );
    expect(fast.filter((p) => p.text.startsWith('payments/payments-api'))).toHaveLength(2);
  });

  test('the channel allow-list and turning DMs off', async () => {
    const strict = await startBot(slack, {
      clusters: [{ name: 'prod', url: prod.url }],
      allowedChannels: ['C0ALLOWED'],
      directMessages: false,
    });
    bots.push(strict);
    await postToBot(strict.url, mentionBody('why is payments timing out', { channel: 'C0OTHER', ts: '1700001200.000100' }), {
      secret: SIGNING_SECRET,
    });
    await postToBot(strict.url, mentionBody('why is payments timing out', { channel: 'C0ALLOWED', ts: '1700001200.000200' }), {
      secret: SIGNING_SECRET,
    });
    await postToBot(strict.url, directMessageBody('why is payments timing out', { ts: '1700001200.000300' }), { secret: SIGNING_SECRET });
    const [other] = await slack.waitFor((p) => p.thread_ts === '1700001200.000100');
    const [allowed] = await slack.waitFor((p) => p.thread_ts === '1700001200.000200');
    const [dm] = await slack.waitFor((p) => p.thread_ts === '1700001200.000300');
    expect(other!.text).toBe('I only answer in some channels here. Ask me in <#C0ALLOWED>.');
    expect(allowed!.text).toMatch(/^payments\/payments-api: up to 50% of connections/);
    expect(dm!.text).toBe('Direct messages are turned off for this bot. Ask me in <#C0ALLOWED>.');
  });
});

afterAll(() => {
  // Every line any bot logged in this file: never a secret.
  for (const b of bots) {
    const log = b.logs.join('');
    expect(log).not.toContain(SIGNING_SECRET);
    expect(log).not.toContain(BOT_TOKEN);
  }
});
