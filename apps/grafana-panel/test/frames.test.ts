import { toDataFrame, FieldType } from '@grafana/data';
import { parseFrames } from '../src/frames';
import { buildGraph } from '../src/graph';
import { defaultOptions } from '../src/types';
import { demoLinks, tableFrame, timeSeriesFrames } from './fixtures';

describe('parseFrames', () => {
  it('reads table (instant) frames', () => {
    const parsed = parseFrames([tableFrame('loopscope_link_loopback_ratio', demoLinks)]);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.links).toHaveLength(4);
    expect(parsed.links[3]).toEqual({
      node: '10.0.2.21', clientNamespace: 'orders', clientKind: 'Deployment', clientWorkload: 'orders-api',
      namespace: 'search', service: 'search-api', ingressIp: '10.0.3.18', port: '80', probability: 0.666667,
    });
  });

  it('reads time-series frames, taking the latest value', () => {
    const parsed = parseFrames(timeSeriesFrames('loopscope_link_loopback_ratio', demoLinks));
    expect(parsed.links.map((l) => l.probability)).toEqual([0.5, 0.5, 0.5, 0.666667]);
  });

  it('joins service info and ratios from other queries', () => {
    const parsed = parseFrames([
      tableFrame('loopscope_link_loopback_ratio', demoLinks),
      tableFrame('loopscope_service_info', [
        { labels: { namespace: 'payments', service: 'payments-api', ip: '10.0.3.15', port: '8080', verdict: 'loopback', traffic_policy: 'Local' }, value: 1 },
      ], 'B'),
      ...timeSeriesFrames('loopscope_service_loopback_ratio', [
        { labels: { namespace: 'payments', service: 'payments-api', ip: '10.0.3.15', port: '8080', protocol: 'TCP' }, value: 0.18 },
      ], 'C'),
    ]);
    expect(parsed.services).toEqual([
      { namespace: 'payments', service: 'payments-api', ingressIp: '10.0.3.15', port: '8080', verdict: 'loopback', trafficPolicy: 'Local', ratio: 0.18 },
    ]);
  });

  it('reads the verdict from the loopscope_service_verdict state set (the series at 1) and the policy from _info', () => {
    const parsed = parseFrames([
      tableFrame('loopscope_service_info', [{ labels: { namespace: 'web', service: 'shop', hostname: 'shop.elb.example.com', port: '443', traffic_policy: 'Cluster' }, value: 1 }], 'B'),
      tableFrame('loopscope_service_verdict', ['loopback', 'safe', 'not-applicable', 'unknown'].map((verdict) => ({ labels: { namespace: 'web', service: 'shop', verdict }, value: verdict === 'safe' ? 1 : 0 })), 'D'),
    ]);
    expect(parsed.services).toEqual([{ namespace: 'web', service: 'shop', ingressIp: 'shop.elb.example.com', port: '443', verdict: 'safe', trafficPolicy: 'Cluster' }]);
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
    expect(g.clients.map((c) => c.label)).toEqual(['checkout/checkout-api', 'orders/orders-api']);
    expect(g.edges).toHaveLength(3);
    expect(g.services.map((s) => [s.id, s.looping])).toEqual([['payments/payments-api', true], ['search/search-api', true]]);
  });

  it('groups clients by node', () => {
    const g = buildGraph(links, [], { ...defaultOptions, groupClientsBy: 'node' });
    expect(g.clients.map((c) => c.label)).toEqual(['10.0.1.11', '10.0.1.12', '10.0.2.21']);
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
