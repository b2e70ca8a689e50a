import { toDataFrame, FieldType } from '@grafana/data';
import { parseFrames } from '../src/frames';
import { buildGraph } from '../src/graph';
import { defaultOptions } from '../src/types';
import { demoLinks, tableFrame, timeSeriesFrames } from './fixtures';

describe('parseFrames', () => {
  it('reads the worst-client figure, known callers (declared + observed, replicas once) and their figure', () => {
    const ing = { namespace: 'payments', service: 'payments-api', ip: '10.0.3.15', port: '8080', protocol: 'TCP' };
    const parsed = parseFrames([
      tableFrame('loopscope_link_loopback_ratio', demoLinks),
      tableFrame(
        'loopscope_service_worst_client_ratio',
        [
          { labels: ing, value: 0.5 },
          { labels: { ...ing, port: '9090' }, value: 0.25 },
        ],
        'E',
      ),
      tableFrame(
        'loopscope_service_known_callers',
        [
          { labels: { ...ing, source: 'declared', instance: 'a' }, value: 3 },
          { labels: { ...ing, source: 'declared', instance: 'b' }, value: 3 },
          { labels: { ...ing, source: 'observed', instance: 'a' }, value: 1 },
          { labels: { ...ing, port: '9090', source: 'declared', instance: 'a' }, value: 1 },
        ],
        'F',
      ),
      tableFrame('loopscope_service_callers_loopback_ratio', [{ labels: ing, value: 0.375 }], 'G'),
    ]);
    expect(parsed.services.find((s) => s.service === 'payments-api')).toMatchObject({
      worstClient: 0.5,
      knownCallers: 4,
      callersRatio: 0.375,
    });
    // The worst-client series is not read as the exposure.
    expect(parsed.services.find((s) => s.service === 'payments-api')!.ratio).toBeUndefined();
    const graph = buildGraph(parsed.links, parsed.services, defaultOptions);
    expect(graph.services.map((s) => [s.id, s.worstClient])).toEqual([
      ['search/search-api', 0.666667],
      ['payments/payments-api', 0.5],
    ]);
  });

  it('reads table (instant) frames', () => {
    const parsed = parseFrames([tableFrame('loopscope_link_loopback_ratio', demoLinks)]);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.links).toHaveLength(4);
    expect(parsed.links[3]).toEqual({
      node: '10.0.2.21',
      clientNamespace: 'orders',
      clientKind: 'Deployment',
      clientWorkload: 'orders-api',
      namespace: 'search',
      service: 'search-api',
      ingressIp: '10.0.3.18',
      port: '80',
      probability: 0.666667,
    });
  });

  it('reads time-series frames, taking the latest value', () => {
    const parsed = parseFrames(timeSeriesFrames('loopscope_link_loopback_ratio', demoLinks));
    expect(parsed.links.map((l) => l.probability)).toEqual([0.5, 0.5, 0.5, 0.666667]);
  });

  it('joins service info and ratios from other queries', () => {
    const parsed = parseFrames([
      tableFrame('loopscope_link_loopback_ratio', demoLinks),
      tableFrame(
        'loopscope_service_info',
        [
          {
            labels: {
              namespace: 'payments',
              service: 'payments-api',
              ip: '10.0.3.15',
              port: '8080',
              verdict: 'loopback',
              traffic_policy: 'Local',
            },
            value: 1,
          },
        ],
        'B',
      ),
      ...timeSeriesFrames(
        'loopscope_service_loopback_ratio',
        [{ labels: { namespace: 'payments', service: 'payments-api', ip: '10.0.3.15', port: '8080', protocol: 'TCP' }, value: 0.18 }],
        'C',
      ),
    ]);
    expect(parsed.services).toEqual([
      {
        namespace: 'payments',
        service: 'payments-api',
        ingressIp: '10.0.3.15',
        port: '8080',
        verdict: 'loopback',
        trafficPolicy: 'Local',
        ratio: 0.18,
      },
    ]);
  });

  it('reads the verdict from the loopscope_service_verdict state set (the series at 1) and the policy from _info', () => {
    const parsed = parseFrames([
      tableFrame(
        'loopscope_service_info',
        [
          {
            labels: { namespace: 'web', service: 'shop', hostname: 'shop.elb.example.com', port: '443', traffic_policy: 'Cluster' },
            value: 1,
          },
        ],
        'B',
      ),
      tableFrame(
        'loopscope_service_verdict',
        ['loopback', 'safe', 'not-applicable', 'unknown'].map((verdict) => ({
          labels: { namespace: 'web', service: 'shop', verdict },
          value: verdict === 'safe' ? 1 : 0,
        })),
        'D',
      ),
    ]);
    expect(parsed.services).toEqual([
      { namespace: 'web', service: 'shop', ingressIp: 'shop.elb.example.com', port: '443', verdict: 'safe', trafficPolicy: 'Cluster' },
    ]);
  });

  it('reports empty data', () => {
    expect(parseFrames([]).empty).toBe(true);
    expect(parseFrames(undefined).empty).toBe(true);
  });

  it('names the metric and labels when they are missing', () => {
    const frame = toDataFrame({
      fields: [
        { name: 'Time', type: FieldType.time, values: [1] },
        { name: 'Value', type: FieldType.number, labels: { job: 'loopscope' }, values: [3] },
      ],
    });
    const parsed = parseFrames([frame]);
    expect(parsed.problem).toMatch(/loopscope_link_loopback_ratio/);
    expect(parsed.problem).toMatch(/missing: node, client_namespace, client_kind, client_workload, namespace, service, port/);
  });
});

describe('buildGraph', () => {
  const links = parseFrames([tableFrame('loopscope_link_loopback_ratio', demoLinks)]).links;

  it('groups clients by workload, keeping the highest probability per edge', () => {
    const g = buildGraph(links, [], defaultOptions);
    // Services worst client first (search-api 66.7% over payments-api 50%, from the links here); clients follow them.
    expect(g.clients.map((c) => c.label)).toEqual(['orders/orders-api', 'checkout/checkout-api']);
    expect(g.edges).toHaveLength(3);
    expect(g.services.map((s) => [s.id, s.looping, s.worstClient])).toEqual([
      ['search/search-api', true, 0.666667],
      ['payments/payments-api', true, 0.5],
    ]);
  });

  it('groups clients by node', () => {
    const g = buildGraph(links, [], { ...defaultOptions, groupClientsBy: 'node' });
    expect(g.clients.map((c) => c.label)).toEqual(['10.0.2.21', '10.0.1.11', '10.0.1.12']);
  });

  it('hides links under the minimum unless safe links are shown', () => {
    expect(buildGraph(links, [], { ...defaultOptions, minProbability: 0.6 }).edges).toHaveLength(1);
    const g = buildGraph(links, [], { ...defaultOptions, minProbability: 0.6, showSafe: true });
    expect(g.edges.filter((e) => !e.looping)).toHaveLength(2);
  });

  it('caps at maxLinks and counts the rest', () => {
    const g = buildGraph(links, [], { ...defaultOptions, maxLinks: 1 });
    expect(g.edges).toHaveLength(1);
    expect(g.edges[0]!.serviceId).toBe('search/search-api');
    expect(g.omitted).toBe(2);
  });
});
