import { cleanTarget, formatQuestion, parseQuestion, questionFromJson, slackToPlain, type Question } from '../src/question';

const CLUSTERS = ['prod', 'staging'];

describe('parseQuestion', () => {
  test.each<[string, Question]>([
    ['why is payments timing out', { kind: 'explain', target: 'payments', detail: 'full' }],
    ['<@U0BOT> why is payments timing out?', { kind: 'explain', target: 'payments', detail: 'full' }],
    ['Why are the checkout pods timing out?', { kind: 'explain', target: 'checkout', detail: 'full' }],
    ['why does payments keep timing out in prod', { kind: 'explain', target: 'payments', detail: 'full', cluster: 'prod' }],
    ['why is deployment checkout-api timing out', { kind: 'explain', target: 'deployment/checkout-api', detail: 'full' }],
    ['why is the LB 10.0.3.15:8080 timing out', { kind: 'explain', target: '10.0.3.15:8080', detail: 'full' }],
    ['why is `prod/payments` slow', { kind: 'explain', target: 'prod/payments', detail: 'full' }],
    ['explain payments-api', { kind: 'explain', target: 'payments-api', detail: 'full' }],
    ["what's wrong with search-api", { kind: 'explain', target: 'search-api', detail: 'full' }],
    ['payments', { kind: 'explain', target: 'payments', detail: 'full' }],
    ['staging: payments/payments-api', { kind: 'explain', target: 'payments/payments-api', detail: 'full', cluster: 'staging' }],
    ['why does checkout time out calling payments', { kind: 'pair', client: 'checkout', service: 'payments' }],
    [
      'why do checkout pods time out when calling payments-api in staging?',
      { kind: 'pair', client: 'checkout', service: 'payments-api', cluster: 'staging' },
    ],
    ["why can't checkout reach payments", { kind: 'pair', client: 'checkout', service: 'payments' }],
    ['is prod/payments at risk', { kind: 'explain', target: 'prod/payments', detail: 'brief' }],
    ['is payments safe?', { kind: 'explain', target: 'payments', detail: 'brief' }],
    ['is payments at risk on staging', { kind: 'explain', target: 'payments', detail: 'brief', cluster: 'staging' }],
    ['what if payments used Cluster', { kind: 'whatIf', target: 'payments', change: { kind: 'trafficPolicy', value: 'Cluster' } }],
    [
      'what if we set payments to externalTrafficPolicy: Local',
      { kind: 'whatIf', target: 'payments', change: { kind: 'trafficPolicy', value: 'Local' } },
    ],
    ['what if payments used ipMode Proxy', { kind: 'whatIf', target: 'payments', change: { kind: 'ipMode', value: 'Proxy' } }],
    ['what if payments had prevent-loopback', { kind: 'whatIf', target: 'payments', change: { kind: 'preventLoopback', value: true } }],
    ['what if we called payments via its ClusterIP', { kind: 'whatIf', target: 'payments', change: { kind: 'callViaClusterIP' } }],
    ['what if we moved the clients of payments', { kind: 'whatIf', target: 'payments', change: { kind: 'moveClients' } }],
    ['what if kube-proxy were v1.20.6-tke.12', { kind: 'whatIf', change: { kind: 'kubeProxyVersion', version: 'v1.20.6-tke.12' } }],
    [
      'what if we upgraded kube-proxy in prod',
      { kind: 'whatIf', change: { kind: 'kubeProxyVersion', version: 'tke-fixed' }, cluster: 'prod' },
    ],
    ['which services are at risk', { kind: 'atRisk' }],
    ['what services are looping in staging?', { kind: 'atRisk', cluster: 'staging' }],
    ['list services at risk in namespace payments', { kind: 'atRisk', namespace: 'payments' }],
    ['help', { kind: 'help' }],
    ['<@U0BOT>', { kind: 'help' }],
    ['', { kind: 'help' }],
  ])('%s', (text, expected) => {
    expect(parseQuestion(text, CLUSTERS)).toEqual(expected);
  });

  test('what it cannot read is "not understood", with a hint for a what-if it could not place', () => {
    expect(parseQuestion('make me a sandwich', CLUSTERS)).toEqual({ kind: 'notUnderstood', text: 'make me a sandwich' });
    expect(parseQuestion('hello', CLUSTERS)).toEqual({ kind: 'notUnderstood', text: 'hello' });
    const q = parseQuestion('what if payments were purple', CLUSTERS);
    expect(q.kind).toBe('notUnderstood');
    expect(q.kind === 'notUnderstood' && q.hint).toMatch(/what if payments used Cluster/);
  });

  test('"in X" is a cluster only when X is one; otherwise it stays part of the question', () => {
    expect(parseQuestion('why is payments timing out in dev', CLUSTERS)).toEqual({ kind: 'explain', target: 'payments', detail: 'full' });
    expect(parseQuestion('why is payments-api in namespace payments timing out', CLUSTERS)).toEqual({
      kind: 'explain',
      target: 'payments/payments-api',
      detail: 'full',
    });
  });
});

test('slackToPlain undoes Slack markup', () => {
  expect(slackToPlain('<@U123|bob> why is <http://10.0.3.15|10.0.3.15> timing &amp; *out*')).toBe('why is 10.0.3.15 timing & out');
});

test('cleanTarget gives one name or nothing', () => {
  expect(cleanTarget('the payments service')).toBe('payments');
  expect(cleanTarget('Payments-API')).toBe('payments-api');
  expect(cleanTarget('pod debug-shell')).toBe('pod/debug-shell');
  expect(cleanTarget('two words')).toBeUndefined();
});

test('formatQuestion reads back as the same question, and buttons carry it as JSON', () => {
  const questions: Question[] = [
    { kind: 'explain', target: 'payments/payments-api', detail: 'full', cluster: 'staging' },
    { kind: 'explain', target: 'payments/payments-api', detail: 'brief' },
    { kind: 'pair', client: 'checkout/deployment/checkout-api', service: 'payments/payments-api', cluster: 'prod' },
    { kind: 'atRisk', cluster: 'prod' },
    { kind: 'whatIf', target: 'payments/payments-api', change: { kind: 'trafficPolicy', value: 'Cluster' } },
    { kind: 'whatIf', target: 'payments/payments-api', change: { kind: 'callViaClusterIP' } },
    { kind: 'whatIf', change: { kind: 'kubeProxyVersion', version: 'tke-fixed' }, cluster: 'staging' },
  ];
  for (const q of questions) {
    expect(parseQuestion(formatQuestion(q), CLUSTERS)).toEqual(q);
    expect(questionFromJson(JSON.stringify(q))).toEqual(q);
  }
  expect(questionFromJson('{"kind":"explain","target":"x"}')).toBeUndefined();
  expect(questionFromJson('{"kind":"rm -rf"}')).toBeUndefined();
  expect(questionFromJson('not json')).toBeUndefined();
});
