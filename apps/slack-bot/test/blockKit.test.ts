import type { Explanation, ServiceExplanation } from '@loopscope/core';
import type { Answer } from '../src/answer';
import { clip, esc, LIMITS, renderBlocks } from '../src/blockKit';
import { renderPlainText } from '../src/plainText';
import type { ExplainedService } from '../src/wording';
import { blockKitProblems } from './support/slackStandIn';

function service(i: number, longText = ''): ServiceExplanation {
  return {
    namespace: 'ns',
    name: `svc-${i}`,
    verdict: 'loopback',
    probability: 0.5 - i / 1000,
    worstClientProbability: 0.5,
    callers: [],
    callerCount: 0,
    callersProbability: null,
    headline: `ns/svc-${i}: loops ${longText}`,
    ingress: `10.0.0.${i}:80`,
    path: Array.from({ length: 6 }, (_, h) => ({
      at: `hop ${h}`,
      what: `what happens ${longText}`,
      basis: 'inferred' as const,
      fails: h === 5,
    })),
    clientNode: 'n1',
    where: {
      nodes: [{ node: 'n1', probability: 0.5, clientPods: 3 }],
      nodeCount: 1,
      workloads: [{ workload: 'a/deployment/b', pods: 3, nodes: ['n1'], maxProbability: 0.5 }],
      workloadCount: 1,
      clientPods: 3,
    },
    fixes: [
      {
        id: 'use-cluster-ip',
        title: 'Call the Service by its cluster DNS name',
        description: 'd',
        tradeoff: 't',
        changes: [],
        predictedProbability: 0,
        predictedWorstClientProbability: 0,
        effective: true,
      },
    ],
    inferred: [`fact ${longText}`],
    observed: [],
    findings: [],
    checkInstead: [],
  };
}

function explanationAnswer(services: ServiceExplanation[]): Answer {
  const explanation: Explanation = {
    target: { kind: 'workload', label: 'a/deployment/b' },
    verdict: 'loopback',
    probability: 0.5,
    headline: 'a/deployment/b is exposed <to> many & more',
    services,
  };
  return {
    kind: 'explanation',
    cluster: 'prod',
    explanation,
    detail: 'full',
    unavailable: [],
    showCluster: false,
    cliCommand: 'loopscope explain a/deployment/b',
  };
}

test('clip cuts at a line end and says how much is left out, within the limit', () => {
  const text = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
  const out = clip(text, 3000);
  expect(out.length).toBeLessThanOrEqual(3000);
  expect(out).toMatch(/\n… \(cut: \d+ more lines\)$/);
  expect(clip('short', 3000)).toBe('short');
  expect(clip('x'.repeat(5000), 100).length).toBeLessThanOrEqual(100);
});

test('esc escapes Slack control characters', () => {
  expect(esc('a <b> & c')).toBe('a &lt;b&gt; &amp; c');
});

test('many Services: whole Services are dropped from the end, and the note names them', () => {
  const msg = renderBlocks(explanationAnswer(Array.from({ length: 40 }, (_, i) => service(i))));
  expect(blockKitProblems(msg.blocks)).toEqual([]);
  expect(msg.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  const note = msg.blocks[msg.blocks.length - 2] as { type: 'context'; elements: Array<{ text: string }> };
  expect(note.elements[0]!.text).toMatch(/^:scissors: Cut to fit one Slack message: not shown: ns\/svc-\d+ \([\d.]+%\)/);
  expect((msg.blocks[0] as any).text.text).toContain('is exposed &lt;to&gt; many &amp; more');
});

test('very long texts: every section stays under 3,000 characters and the fallback under its cap', () => {
  const msg = renderBlocks(explanationAnswer([service(1, 'y'.repeat(900)), service(2, 'z'.repeat(900))]));
  expect(blockKitProblems(msg.blocks)).toEqual([]);
  expect(msg.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
});

test('at risk: the worst few with their figures, each linked to the dashboard, and a link to the rest — never a 50-block wall', () => {
  const services = Array.from({ length: 5 }, (_, i) => ({
    namespace: 'ns',
    name: `svc-${i}`,
    loopbackProbability: 0.3 - i / 100,
    atRiskNodes: 2,
    clientPodsOnAtRiskNodes: 4,
    affectedWorkloads: 3,
    dashboardUrl: `https://grafana.example.com/d/loopscope?var-cluster=prod&var-namespace=ns&var-service=svc-${i}`,
  }));
  const answer: Answer = {
    kind: 'atRisk',
    clusters: [
      {
        cluster: 'prod',
        summary: {
          services: 1000,
          clientPods: 10,
          clientPodsAtRisk: 5,
          loopback: 900,
          unreachable: 0,
          safe: 0,
          'not-applicable': 100,
          unknown: 0,
        },
        total: 900,
        services,
        dashboardUrl: 'https://grafana.example.com/d/loopscope?var-cluster=prod',
      },
    ],
    unavailable: [],
    showCluster: false,
  };
  const msg = renderBlocks(answer);
  expect(blockKitProblems(msg.blocks)).toEqual([]);
  expect(msg.blocks.map((b) => b.type)).toEqual(['section', 'section', 'context', 'actions']);
  expect((msg.blocks[0] as any).text.text).toBe(
    ':red_circle: *900 Services at risk* of internal-LB loopback (of 1000 Services; 5 of 10 client pods on at-risk nodes)',
  );
  const lines = (msg.blocks[1] as any).text.text.split('\n');
  expect(lines).toHaveLength(5);
  // Without a worst-client figure (an older exporter), the exposure stands in for it.
  expect(lines[0]).toBe(
    '1. *<https://grafana.example.com/d/loopscope?var-cluster=prod&var-namespace=ns&var-service=svc-0|ns/svc-0>* *up to 30%* · 4 client pods on 2 nodes · 3 workloads · exposure 30%',
  );
  expect((msg.blocks[2] as any).elements[0].text).toBe('… and 895 more Services at risk: the dashboard lists them all, worst first');
  expect((msg.blocks[3] as any).elements[0]).toMatchObject({
    text: { text: 'All 900 at-risk Services' },
    url: 'https://grafana.example.com/d/loopscope?var-cluster=prod',
  });
  expect(msg.text).toContain('… and 895 more Services at risk (all of them on the dashboard)');
});

test('mrkdwn control characters are escaped everywhere: figures under 0.1%, names, reasons a cluster gave', () => {
  const answer: Answer = {
    kind: 'atRisk',
    clusters: [
      {
        cluster: 'prod',
        summary: {
          services: 2,
          clientPods: 10,
          clientPodsAtRisk: 5,
          loopback: 1,
          unreachable: 0,
          safe: 1,
          'not-applicable': 0,
          unknown: 0,
        },
        total: 1,
        services: [
          {
            namespace: 'a&b',
            name: '<!channel>',
            loopbackProbability: 0.0001,
            atRiskNodes: 1,
            clientPodsOnAtRiskNodes: 1,
            affectedWorkloads: 1,
          },
        ],
      },
    ],
    unavailable: [{ cluster: 'stage', location: 'http://x', reason: 'HTTP 502: <html> & more' }],
    showCluster: true,
  };
  const msg = renderBlocks(answer);
  const text = JSON.stringify(msg.blocks);
  expect(text).toContain('a&amp;b/&lt;!channel&gt;');
  expect(text).toContain('*up to &lt;0.1%*');
  expect(text).toContain('HTTP 502: &lt;html&gt; &amp; more');
  // Nothing left that Slack would read as a link, mention or entity, apart from those escaped.
  for (const t of [...text.matchAll(/"text":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!))
    expect(t).not.toMatch(/<(?!https?:)|&(?!amp;|lt;|gt;)/);
  // The fallback is plain text, shown as is.
  expect(msg.text).toContain('a&b/<!channel>: up to <0.1%');
  expect(msg.text).not.toMatch(/\b0%/);
});

test('choices become buttons carrying their question; more than ten are summarised', () => {
  const options = Array.from({ length: 12 }, (_, i) => ({
    label: `prod: ns/svc-${i}-${'x'.repeat(80)}`,
    question: { kind: 'explain' as const, target: `ns/svc-${i}`, detail: 'full' as const, cluster: 'prod' },
  }));
  const msg = renderBlocks({ kind: 'choice', prompt: '"svc" matches 12 objects. Which one?', options, unavailable: [], showCluster: true });
  expect(blockKitProblems(msg.blocks)).toEqual([]);
  const buttons = msg.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.type === 'actions' ? b.elements : []));
  expect(buttons).toHaveLength(10);
  expect(new Set(buttons.map((b) => b.action_id)).size).toBe(10);
  expect(JSON.parse(buttons[3]!.value!)).toEqual(options[3]!.question);
  expect(msg.text).toContain('ask "why is ns/svc-11 timing out in prod"');
});

/** payments-api as the demo has it, with a known caller as core reports it. */
function paymentsExplanation(extra: Partial<ExplainedService> = {}): Explanation {
  const s: ExplainedService = {
    ...service(0),
    namespace: 'payments',
    name: 'payments-api',
    probability: 0.1806,
    headline: 'payments/payments-api: 18.1% of new connections from pods to 10.0.3.15:8080 loop back',
    where: {
      nodes: [
        { node: '10.0.1.11', probability: 0.5, clientPods: 7 },
        { node: '10.0.1.12', probability: 0.5, clientPods: 6 },
      ],
      nodeCount: 2,
      workloads: [],
      workloadCount: 10,
      clientPods: 13,
    },
    worstClientProbability: 0.5,
    clientPodsAtRisk: 13,
    callers: [
      // Core's explanation names the workload; the report's shape ({ kind, name }) reads the same.
      { pod: 'checkout-api-7d9f8-abcde', workload: 'checkout-api', where: 'env PAYMENTS_API_URL', probability: 0.5 },
      { pod: 'checkout-api-7d9f8-fghij', workload: { name: 'checkout-api' }, where: 'env PAYMENTS_API_URL', probability: 0 },
    ],
    ...extra,
  };
  return {
    target: { kind: 'service', label: 'payments/payments-api' },
    verdict: s.verdict,
    probability: s.probability,
    headline: s.headline,
    services: [s as unknown as Explanation['services'][number]],
  };
}

const answerFor = (explanation: Explanation): Answer => ({
  kind: 'explanation',
  cluster: 'prod',
  explanation,
  detail: 'brief',
  unavailable: [],
  showCluster: false,
  cliCommand: 'loopscope explain payments/payments-api',
});

test('the first line is the worst-client figure with the known caller and where it was found', () => {
  const msg = renderBlocks(answerFor(paymentsExplanation()));
  expect(msg.text.split('\n')[0]).toBe(
    'payments/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out; checkout-api calls it (env PAYMENTS_API_URL)',
  );
  expect((msg.blocks[0] as any).text.text.split('\n')[0]).toBe(
    ':red_circle: *payments/payments-api*: *up to 50%* of connections from 13 client pods on 2 nodes time out; checkout-api calls it (env PAYMENTS_API_URL)',
  );
  expect(renderPlainText(answerFor(paymentsExplanation())).split('\n')[0]).toBe(msg.text.split('\n')[0]);
});

test('several calling workloads: the likeliest to loop leads; caller text is escaped in mrkdwn', () => {
  const e = paymentsExplanation();
  const s = e.services[0] as ExplainedService;
  s.callers = [...s.callers!, { pod: 'storefront-1', workload: 'storefront<x>', where: 'conntrack on 10.0.1.12', probability: 0.5 }];
  const msg = renderBlocks(answerFor(e));
  expect(msg.text.split('\n')[0]).toBe(
    'payments/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out; checkout-api (env PAYMENTS_API_URL) and 1 more workload call it',
  );
  s.callers = [s.callers[2]!, { pod: 'debug-shell', where: 'env TARGET', probability: 0 }];
  // A bare pod is named by its pod name.
  expect((renderBlocks(answerFor(e)).blocks[0] as any).text.text).toContain(
    'storefront&lt;x&gt; (conntrack on 10.0.1.12) and 1 more workload call it',
  );
});

test('without the worst-client field (an older exporter), the worst at-risk node stands in; a tiny figure never reads 0%', () => {
  const e = paymentsExplanation({ worstClientProbability: undefined, clientPodsAtRisk: undefined, callers: undefined });
  expect(renderPlainText(answerFor(e)).split('\n')[0]).toBe(
    'payments/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out',
  );
  const tiny = paymentsExplanation({ worstClientProbability: 0.0004, callers: [] });
  expect(renderPlainText(answerFor(tiny)).split('\n')[0]).toBe(
    'payments/payments-api: up to <0.1% of connections from 13 client pods on 2 nodes time out',
  );
  expect((renderBlocks(answerFor(tiny)).blocks[0] as any).text.text).toContain('*up to &lt;0.1%*');
});

test('unreachable says who cannot connect and why; unknown names the missing input and its kubectl get', () => {
  const u = paymentsExplanation({
    verdict: 'unreachable',
    unreachable: { clientPods: 4, nodes: ['10.0.2.22'], reasons: ['no eligible backend from 10.0.2.22'] },
  });
  u.verdict = 'unreachable';
  expect(renderPlainText(answerFor(u)).split('\n')[0]).toBe(
    'payments/payments-api: unreachable, 4 client pods on 1 node cannot connect through the LB at all (no eligible backend from 10.0.2.22)',
  );
  const k = paymentsExplanation({ verdict: 'unknown', missing: [{ kind: 'Pod', kubectl: 'kubectl get pods -A -o json' }] });
  k.verdict = 'unknown';
  expect(renderPlainText(answerFor(k)).split('\n')[0]).toBe(
    'payments/payments-api: unknown, the input has no Pod: add `kubectl get pods -A -o json`',
  );
});

test('the at-risk list ranks by the worst-client figure, not the exposure', () => {
  const entry = (name: string, worst: number, exposure: number) => ({
    namespace: 'ns',
    name,
    worstClientProbability: worst,
    loopbackProbability: exposure,
    atRiskNodes: 2,
    clientPodsOnAtRiskNodes: 10,
    affectedWorkloads: 3,
  });
  const answer: Answer = {
    kind: 'atRisk',
    clusters: [
      {
        cluster: 'prod',
        summary: {
          services: 2,
          clientPods: 150000,
          clientPodsAtRisk: 20,
          loopback: 2,
          unreachable: 1,
          safe: 0,
          'not-applicable': 0,
          unknown: 0,
        },
        total: 2,
        services: [entry('wide', 0.05, 0.01), entry('narrow', 0.5, 0.0003)],
      },
    ],
    unavailable: [],
    showCluster: false,
  };
  const lines = renderPlainText(answer).split('\n');
  expect(lines[0]).toContain('; 1 unreachable');
  expect(lines[1]).toBe('  1. ns/narrow: up to 50% · 10 client pods on 2 nodes · 3 workloads · exposure <0.1%');
  expect(lines[2]).toBe('  2. ns/wide: up to 5% · 10 client pods on 2 nodes · 3 workloads · exposure 1%');
  expect((renderBlocks(answer).blocks[1] as any).text.text.split('\n')[0]).toBe(
    '1. *ns/narrow* *up to 50%* · 10 client pods on 2 nodes · 3 workloads · exposure &lt;0.1%',
  );
});
