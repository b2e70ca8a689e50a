import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { DataFrame, FieldType, LoadingState, PanelData, PanelProps, getDefaultTimeRange, toDataFrame } from '@grafana/data';
import { LinksPanel } from '../src/components/LinksPanel';
import { defaultOptions, LinksOptions } from '../src/types';
import { demoLinks, Labels, tableFrame, timeSeriesFrames } from './fixtures';

function renderPanel(series: DataFrame[], options: Partial<LinksOptions> = {}) {
  const data: PanelData = { state: LoadingState.Done, series, timeRange: getDefaultTimeRange() };
  const props = {
    id: 1,
    data,
    timeRange: data.timeRange,
    timeZone: 'utc',
    options: { ...defaultOptions, ...options },
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width: 900,
    height: 400,
    title: 'Loopback links',
    eventBus: {} as PanelProps['eventBus'],
    renderCounter: 0,
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    onChangeTimeRange: jest.fn(),
    replaceVariables: (s: string) => s,
  } as unknown as PanelProps<LinksOptions>;
  return render(<LinksPanel {...props} />);
}

describe('LinksPanel', () => {
  it('draws looping links from table frames as red edges with their probability', () => {
    renderPanel([tableFrame('loopscope_link_loopback_ratio', demoLinks)], { exporterUrl: 'http://exporter:9808/' });
    const edges = screen.getAllByTestId('edge');
    expect(edges).toHaveLength(3);
    expect(edges.every((e) => e.getAttribute('data-looping') === 'true')).toBe(true);
    const line = within(edges[0]!).getByTestId('edge-line');
    expect(line.getAttribute('stroke')).toMatch(/^#|rgb/);
    expect(screen.getAllByTestId('edge-label').map((t) => t.textContent)).toEqual(expect.arrayContaining(['50%', '66.7%']));
    expect(screen.getByTestId('service:payments/payments-api')).toBeTruthy();
    expect(screen.getByTestId('ingress:10.0.3.18:80|search/search-api')).toBeTruthy();

    // click → details with the explain data link
    fireEvent.click(screen.getAllByTestId('link-row')[0]!);
    const details = screen.getByTestId('edge-details');
    const a = within(details).getByRole('link');
    expect(a.getAttribute('href')).toBe('http://exporter:9808/api/v1/explain?target=search%2Fsearch-api');
  });

  it('draws time-series frames and sorts the list', () => {
    renderPanel(timeSeriesFrames('loopscope_link_loopback_ratio', demoLinks), { groupClientsBy: 'node' });
    // by node, 10.0.1.12's two workloads calling payments-api are one edge
    expect(screen.getAllByTestId('edge')).toHaveLength(3);
    const firstCell = () => screen.getAllByTestId('link-row')[0]!.querySelector('td')!.textContent;
    expect(firstCell()).toBe('10.0.2.21');
    fireEvent.click(screen.getByRole('button', { name: /Client/ }));
    expect(firstCell()).toBe('10.0.1.11');
  });

  it('shows pod-count badges when the frames carry them', () => {
    renderPanel([
      tableFrame(
        'loopscope_link_loopback_ratio',
        demoLinks.map((l) => ({ ...l, labels: { ...l.labels, pods: '2' } })),
      ),
    ]);
    expect(screen.getAllByTestId('pod-badge').map((b) => b.textContent)).toEqual(['4', '4']);
  });

  it('shows safe Services from loopscope_service_info, with the list below the graph', () => {
    const { container } = renderPanel(
      [
        tableFrame('loopscope_link_loopback_ratio', demoLinks),
        tableFrame(
          'loopscope_service_info',
          [
            {
              labels: {
                namespace: 'orders',
                service: 'orders-api',
                ip: '10.0.3.16',
                port: '8080',
                verdict: 'safe',
                traffic_policy: 'Cluster',
              },
              value: 1,
            },
          ],
          'B',
        ),
      ],
      { showSafe: true, orientation: 'vertical', minProbability: 0.6 },
    );
    expect((container.firstChild as HTMLElement).style.flexDirection).toBe('column');
    expect(screen.getByTestId('service:orders/orders-api')).toBeTruthy();
    // under the minimum: drawn, but not as looping
    expect(
      screen
        .getAllByTestId('edge')
        .map((e) => e.getAttribute('data-looping'))
        .sort(),
    ).toEqual(['false', 'false', 'true']);
  });

  it('shows details on hover', () => {
    renderPanel([tableFrame('loopscope_link_loopback_ratio', demoLinks)]);
    fireEvent.mouseEnter(screen.getAllByTestId('edge')[0]!);
    expect(screen.getByTestId('edge-details').textContent).toMatch(/orders\/orders-api → search\/search-api via 10\.0\.3\.18:80/);
    expect(within(screen.getByTestId('edge-details')).queryByRole('link')).toBeNull(); // no exporter URL set
  });

  it('shows the worst-client figure per Service (the headline), exposure and known callers beside it', () => {
    const ing = { namespace: 'payments', service: 'payments-api', ip: '10.0.3.15', port: '8080', protocol: 'TCP' };
    renderPanel([
      tableFrame('loopscope_link_loopback_ratio', demoLinks),
      tableFrame('loopscope_service_loopback_ratio', [{ labels: ing, value: 0.180556 }], 'C'),
      tableFrame(
        'loopscope_service_worst_client_ratio',
        [
          { labels: ing, value: 0.5 },
          { labels: { ...ing, namespace: 'search', service: 'search-api', ip: '10.0.3.18', port: '80' }, value: 0.0004 },
        ],
        'E',
      ),
      tableFrame('loopscope_service_known_callers', [{ labels: { ...ing, source: 'declared' }, value: 2 }], 'F'),
      tableFrame('loopscope_service_callers_loopback_ratio', [{ labels: ing, value: 0.5 }], 'G'),
    ]);
    const rows = screen.getAllByTestId('service-row').map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['payments/payments-api', 'up to 50%', '2 (50%)', '18.1%'],
      // A figure above zero never reads "0%".
      ['search/search-api', 'up to <0.1%', '-', '-'],
    ]);
    expect(screen.getByTestId('service:payments/payments-api').querySelector('title')!.textContent).toBe(
      'payments/payments-api; up to 50% of connections from its worst-placed client pods time out; cluster exposure 18.1%; 2 known caller pod(s), 50% of their connections loop',
    );
    expect(within(screen.getByTestId('service:search/search-api')).getByTestId('worst-client-badge').textContent).toBe('<0.1%');
    fireEvent.click(screen.getAllByTestId('link-row').find((r) => r.textContent!.includes('payments'))!);
    expect(screen.getByTestId('service-headline').textContent).toBe(
      'payments/payments-api: up to 50% of connections from its worst-placed client pods; 2 known caller pod(s) at 50%',
    );
  });

  it('every figure the panel prints for 0.0004 reads "<0.1%", never "0%"', () => {
    renderPanel([tableFrame('loopscope_link_loopback_ratio', [{ ...demoLinks[0]!, value: 0.0004 }])]);
    expect(screen.getAllByTestId('edge-label').map((t) => t.textContent)).toEqual(['<0.1%']);
    expect(screen.getAllByTestId('link-row')[0]!.textContent).toContain('<0.1%');
    expect(screen.getByTestId('service-row').textContent).toContain('up to <0.1%');
    expect(screen.getByTestId('loopscope-links-panel').textContent).not.toMatch(/(^|[^.\d])0%/);
  });

  it('says so when there is no data', () => {
    renderPanel([]);
    expect(screen.getByRole('status').textContent).toMatch(/No data/);
  });

  it('names the metric and labels it needs when frames lack them', () => {
    const frame = toDataFrame({
      refId: 'A',
      fields: [
        { name: 'Time', type: FieldType.time, values: [1] },
        { name: 'Value', type: FieldType.number, labels: { __name__: 'up', job: 'loopscope' }, values: [1] },
      ],
    });
    renderPanel([frame]);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/loopscope_link_loopback_ratio/);
    expect(alert.textContent).toMatch(/client_workload/);
  });

  it('aggregates 500 links to the top N and notes the rest', () => {
    const many: Array<{ labels: Labels; value: number }> = [];
    for (let i = 0; i < 500; i++) {
      many.push({
        labels: {
          node: `10.0.${i % 20}.${i % 7}`,
          client_namespace: `ns${i % 25}`,
          client_kind: 'Deployment',
          client_workload: `app-${i}`,
          namespace: `svc-ns${i % 10}`,
          service: `api-${i % 10}`,
          ip: `10.9.0.${i % 10}`,
          port: '443',
        },
        value: ((i * 37) % 100) / 100 + 0.001,
      });
    }
    const start = Date.now();
    renderPanel([tableFrame('loopscope_link_loopback_ratio', many)], { maxLinks: 40 });
    expect(Date.now() - start).toBeLessThan(5000);
    expect(screen.getAllByTestId('edge')).toHaveLength(40);
    expect(screen.getByTestId('omitted').textContent).toMatch(/top 40 of 500 links .*\+460 more/);
    expect(screen.getAllByTestId('link-row')[0]!.textContent).toMatch(/10\d%|99\.?\d*%|100%/);
  });
});
