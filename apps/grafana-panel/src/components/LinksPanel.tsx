import React, { useMemo, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, PanelProps } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';
import { formatProbability } from '@loopscope/core/format';
import { parseFrames } from '../frames';
import { buildGraph, GraphEdge, LinkGraph, ServiceNode } from '../graph';
import { LinksOptions } from '../types';

type Props = PanelProps<LinksOptions>;

const ROW = 30;
const NODE_H = 22;
const PAD_Y = 24;

export function explainUrl(exporterUrl: string, namespace: string, service: string): string | undefined {
  if (!exporterUrl) {
    return undefined;
  }
  return `${exporterUrl.replace(/\/+$/, '')}/api/v1/explain?target=${encodeURIComponent(`${namespace}/${service}`)}`;
}

function getStyles(theme: GrafanaTheme2) {
  return {
    root: css({ display: 'flex', gap: theme.spacing(1), overflow: 'hidden', fontSize: theme.typography.bodySmall.fontSize }),
    graph: css({ flex: '2 1 0', overflow: 'auto', minWidth: 0, minHeight: 0 }),
    side: css({
      flex: '1 1 0',
      overflow: 'auto',
      minWidth: 0,
      minHeight: 0,
      display: 'flex',
      flexDirection: 'column',
      gap: theme.spacing(1),
    }),
    message: css({
      padding: theme.spacing(2),
      color: theme.colors.text.secondary,
      border: `1px dashed ${theme.colors.border.medium}`,
      borderRadius: theme.shape.radius.default,
    }),
    note: css({ color: theme.colors.text.secondary, padding: theme.spacing(0.5, 0) }),
    table: css({
      width: '100%',
      borderCollapse: 'collapse',
      'th, td': { textAlign: 'left', padding: theme.spacing(0.25, 0.5), borderBottom: `1px solid ${theme.colors.border.weak}` },
      'td:last-child, th:last-child': { textAlign: 'right' },
      tr: { cursor: 'pointer' },
      'tbody tr:hover': { background: theme.colors.action.hover },
    }),
    sortButton: css({
      background: 'none',
      border: 'none',
      padding: 0,
      color: theme.colors.text.primary,
      fontWeight: theme.typography.fontWeightMedium,
      cursor: 'pointer',
    }),
    selectedRow: css({ background: theme.colors.action.selected }),
    details: css({
      padding: theme.spacing(1),
      background: theme.colors.background.secondary,
      borderRadius: theme.shape.radius.default,
      a: { color: theme.colors.text.link },
    }),
    looping: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightMedium }),
    headline: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightBold, whiteSpace: 'nowrap' }),
    figure: css({ whiteSpace: 'nowrap' }),
  };
}

type SortKey = 'client' | 'service' | 'probability';

interface Layout {
  width: number;
  height: number;
  x: [number, number, number];
  colW: number;
  y: Map<string, number>;
}

function layout(graph: LinkGraph, width: number): Layout {
  const rows = Math.max(graph.clients.length, graph.ingresses.length, graph.services.length, 1);
  const height = rows * ROW + PAD_Y * 2;
  const w = Math.max(width, 420);
  const colW = Math.min(220, Math.floor(w / 4.2));
  const gap = (w - colW * 3) / 2;
  const x: [number, number, number] = [0, colW + gap, 2 * (colW + gap)];
  const y = new Map<string, number>();
  const place = (ids: string[]) => {
    const offset = PAD_Y + ((rows - ids.length) * ROW) / 2;
    ids.forEach((id, i) => y.set(id, offset + i * ROW + ROW / 2));
  };
  place(graph.clients.map((c) => c.id));
  place(graph.ingresses.map((i) => i.id));
  place(graph.services.map((s) => s.id));
  return { width: w, height, x, colW, y };
}

function curve(x1: number, y1: number, x2: number, y2: number): string {
  const mx = (x1 + x2) / 2;
  return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
}

/** "up to 50%": the worst-placed client's figure, as every loopscope surface writes it. */
export function worstClientText(s: ServiceNode): string | undefined {
  return s.worstClient !== undefined && s.worstClient > 0 ? `up to ${formatProbability(s.worstClient)}` : undefined;
}

/** "3 (50%)": known callers and their figure. */
export function callersText(s: ServiceNode): string {
  return s.knownCallers ? `${s.knownCallers}${s.callersRatio !== undefined ? ` (${formatProbability(s.callersRatio)})` : ''}` : '-';
}

/** A Service node's tooltip: the headline, then the exposure, then the callers. */
function serviceTitle(s: ServiceNode): string {
  const parts = [`${s.id}${s.verdict ? ` (${s.verdict})` : ''}`];
  const worst = worstClientText(s);
  if (worst) parts.push(`${worst} of connections from its worst-placed client pods time out`);
  if (s.ratio !== undefined) parts.push(`cluster exposure ${formatProbability(s.ratio)}`);
  if (s.knownCallers)
    parts.push(
      `${s.knownCallers} known caller pod(s)${s.callersRatio !== undefined ? `, ${formatProbability(s.callersRatio)} of their connections loop` : ''}`,
    );
  return parts.join('; ');
}

function truncate(s: string, chars: number): string {
  return s.length > chars ? `${s.slice(0, chars - 1)}…` : s;
}

export const LinksPanel: React.FC<Props> = ({ data, options, width, height }) => {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const [selected, setSelected] = useState<string | undefined>();
  const [hovered, setHovered] = useState<string | undefined>();
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'probability', desc: true });

  const parsed = useMemo(() => parseFrames(data?.series), [data?.series]);
  const graph = useMemo(() => buildGraph(parsed.links, parsed.services, options), [parsed, options]);

  if (parsed.empty) {
    return (
      <div className={styles.message} role="status">
        No data. Query loopscope_link_loopback_ratio from the loopscope exporter's Prometheus.
      </div>
    );
  }
  if (parsed.problem) {
    return (
      <div className={styles.message} role="alert">
        {parsed.problem}
      </div>
    );
  }

  const horizontal = options.orientation !== 'vertical';
  const graphWidth = Math.max(0, horizontal ? Math.floor(width * 0.62) : width) - 16;
  const l = layout(graph, graphWidth);
  const clientsById = new Map(graph.clients.map((c) => [c.id, c]));
  const servicesById = new Map(graph.services.map((s) => [s.id, s]));
  const active = hovered ?? selected;
  const loopColor = theme.colors.error.main;
  const safeColor = theme.colors.border.strong;
  const chars = Math.max(8, Math.floor(l.colW / 7));
  // Probability labels sit just right of their client, stacked when a client has several edges.
  const labelSlot = new Map<string, { index: number; count: number }>();
  const byClient = new Map<string, GraphEdge[]>();
  graph.edges.forEach((e) => byClient.set(e.clientId, [...(byClient.get(e.clientId) ?? []), e]));
  byClient.forEach((list) =>
    [...list]
      .sort((a, b) => l.y.get(a.ingressId)! - l.y.get(b.ingressId)!)
      .forEach((e, index) => labelSlot.set(e.id, { index, count: list.length })),
  );

  const rows = [...graph.edges].sort((a, b) => {
    const dir = sort.desc ? -1 : 1;
    if (sort.key === 'probability') {
      return dir * (a.probability - b.probability);
    }
    const av = sort.key === 'client' ? clientsById.get(a.clientId)!.label : a.serviceId;
    const bv = sort.key === 'client' ? clientsById.get(b.clientId)!.label : b.serviceId;
    return dir * av.localeCompare(bv);
  });
  const sortBy = (key: SortKey) => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'probability' }));
  const arrow = (key: SortKey) => (sort.key === key ? (sort.desc ? ' ↓' : ' ↑') : '');
  const selectedEdge: GraphEdge | undefined = graph.edges.find((e) => e.id === (selected ?? hovered));

  const node = (
    x: number,
    y: number,
    label: string,
    fill: string,
    stroke: string,
    key: string,
    title: string,
    badge?: string,
    badgeId = 'pod-badge',
  ) => (
    <g key={key} data-testid={key}>
      <title>{title}</title>
      <rect x={x} y={y - NODE_H / 2} width={l.colW} height={NODE_H} rx={4} fill={fill} stroke={stroke} />
      <text x={x + 6} y={y + 4} fill={theme.colors.text.primary} fontSize={11}>
        {truncate(label, badge ? chars - badge.length - 1 : chars)}
      </text>
      {badge && (
        <g data-testid={badgeId}>
          <rect
            x={x + l.colW - 8 * badge.length - 6}
            y={y - 8}
            width={8 * badge.length + 2}
            height={16}
            rx={8}
            fill={theme.colors.secondary.main}
          />
          <text
            x={x + l.colW - 5 - 4 * badge.length - 4}
            y={y + 4}
            textAnchor="middle"
            fontSize={10}
            fill={theme.colors.secondary.contrastText}
          >
            {badge}
          </text>
        </g>
      )}
    </g>
  );

  return (
    <div
      className={styles.root}
      style={{ width, height, flexDirection: horizontal ? 'row' : 'column' }}
      data-testid="loopscope-links-panel"
    >
      <div className={styles.graph}>
        <svg width={l.width} height={l.height} role="img" aria-label="Loopback links: clients to Services through their LB ingress">
          <text x={l.x[0]} y={14} fontSize={11} fill={theme.colors.text.secondary}>
            {options.groupClientsBy === 'node' ? 'Client nodes' : 'Client workloads'}
          </text>
          <text x={l.x[1]} y={14} fontSize={11} fill={theme.colors.text.secondary}>
            LB ingress
          </text>
          <text x={l.x[2]} y={14} fontSize={11} fill={theme.colors.text.secondary}>
            Service
          </text>
          {graph.ingresses.map((ing) => {
            const svc = servicesById.get(ing.serviceId)!;
            return (
              <path
                key={`is:${ing.id}`}
                d={curve(l.x[1] + l.colW, l.y.get(ing.id)!, l.x[2], l.y.get(ing.serviceId)!)}
                fill="none"
                stroke={svc.looping ? loopColor : safeColor}
                strokeWidth={1.5}
              />
            );
          })}
          {graph.edges.map((e) => {
            const x1 = l.x[0] + l.colW;
            const y1 = l.y.get(e.clientId)!;
            const x2 = l.x[1];
            const y2 = l.y.get(e.ingressId)!;
            const color = e.looping ? loopColor : safeColor;
            const dim = active !== undefined && active !== e.id;
            return (
              <g
                key={e.id}
                data-testid="edge"
                data-looping={String(e.looping)}
                data-service={e.serviceId}
                opacity={dim ? 0.25 : 1}
                style={{ cursor: 'pointer' }}
                onMouseEnter={() => setHovered(e.id)}
                onMouseLeave={() => setHovered(undefined)}
                onClick={() => setSelected((s) => (s === e.id ? undefined : e.id))}
              >
                <title>{`${clientsById.get(e.clientId)!.label} → ${e.serviceId}: ${formatProbability(e.probability)}`}</title>
                <path d={curve(x1, y1, x2, y2)} fill="none" stroke="transparent" strokeWidth={10} />
                <path d={curve(x1, y1, x2, y2)} fill="none" stroke={color} strokeWidth={1 + 3 * e.probability} data-testid="edge-line" />
                {e.looping && (
                  <text
                    x={x1 + 6}
                    y={y1 + (labelSlot.get(e.id)!.index - (labelSlot.get(e.id)!.count - 1) / 2) * 11 + 3.5}
                    fontSize={10}
                    fontWeight={500}
                    fill={theme.colors.error.text}
                    stroke={theme.colors.background.primary}
                    strokeWidth={3}
                    paintOrder="stroke"
                    data-testid="edge-label"
                  >
                    {formatProbability(e.probability)}
                  </text>
                )}
              </g>
            );
          })}
          {graph.clients.map((c) =>
            node(
              l.x[0],
              l.y.get(c.id)!,
              c.label,
              theme.colors.background.secondary,
              theme.colors.border.medium,
              `client:${c.id}`,
              `${c.label} (${c.sublabel})${c.pods !== undefined ? `, ${c.pods} pods` : ''}`,
              c.pods !== undefined ? String(c.pods) : undefined,
            ),
          )}
          {graph.ingresses.map((i) =>
            node(
              l.x[1],
              l.y.get(i.id)!,
              i.label,
              theme.colors.background.secondary,
              theme.colors.border.medium,
              `ingress:${i.id}`,
              `LB ingress ${i.label} of ${i.serviceId}`,
            ),
          )}
          {graph.services.map((s) =>
            node(
              l.x[2],
              l.y.get(s.id)!,
              s.id,
              theme.colors.background.secondary,
              s.looping ? loopColor : theme.colors.border.medium,
              `service:${s.id}`,
              serviceTitle(s),
              s.looping && s.worstClient ? formatProbability(s.worstClient) : undefined,
              'worst-client-badge',
            ),
          )}
        </svg>
      </div>
      <div className={styles.side}>
        {graph.edges.length === 0 && (
          <div className={styles.note}>No looping links at or above {formatProbability(options.minProbability)}.</div>
        )}
        {graph.omitted > 0 && (
          <div className={styles.note} data-testid="omitted">
            Showing the top {graph.edges.length} of {graph.totalEdges} links by probability: +{graph.omitted} more.
          </div>
        )}
        {graph.services.some((s) => s.looping) && (
          <table className={styles.table} data-testid="service-table">
            <thead>
              <tr>
                <th>Service</th>
                <th title="What the worst-placed client pod suffers: the headline">Worst client</th>
                <th title="Pods known to call it (named in their env, args or command, or seen in conntrack), and their figure">
                  Known callers
                </th>
                <th title="Mean over every client pod of the cluster: ranks Services">Exposure</th>
              </tr>
            </thead>
            <tbody>
              {graph.services
                .filter((s) => s.looping)
                .map((s) => (
                  <tr key={s.id} data-testid="service-row">
                    <td>{s.id}</td>
                    <td className={styles.headline}>{worstClientText(s) ?? '-'}</td>
                    <td className={styles.figure}>{callersText(s)}</td>
                    <td className={styles.figure}>{s.ratio !== undefined ? formatProbability(s.ratio) : '-'}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
        {graph.edges.length > 0 && (
          <table className={styles.table}>
            <thead>
              <tr>
                <th>
                  <button className={styles.sortButton} onClick={() => sortBy('client')}>
                    Client{arrow('client')}
                  </button>
                </th>
                <th>
                  <button className={styles.sortButton} onClick={() => sortBy('service')}>
                    Service{arrow('service')}
                  </button>
                </th>
                <th>
                  <button className={styles.sortButton} onClick={() => sortBy('probability')}>
                    Loops{arrow('probability')}
                  </button>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr
                  key={e.id}
                  data-testid="link-row"
                  className={e.id === selected ? styles.selectedRow : undefined}
                  onClick={() => setSelected((s) => (s === e.id ? undefined : e.id))}
                  onMouseEnter={() => setHovered(e.id)}
                  onMouseLeave={() => setHovered(undefined)}
                >
                  <td>{clientsById.get(e.clientId)!.label}</td>
                  <td>{e.serviceId}</td>
                  <td className={e.looping ? styles.looping : undefined}>{formatProbability(e.probability)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {/* Below the links, so that hovering a row (which shows its details) never moves the rows. */}
        {selectedEdge && (
          <EdgeDetails
            edge={selectedEdge}
            service={servicesById.get(selectedEdge.serviceId)!}
            exporterUrl={options.exporterUrl}
            clientLabel={clientsById.get(selectedEdge.clientId)!.label}
            styles={styles}
          />
        )}
      </div>
    </div>
  );
};

function EdgeDetails({
  edge,
  service,
  exporterUrl,
  clientLabel,
  styles,
}: {
  edge: GraphEdge;
  service: ServiceNode;
  exporterUrl: string;
  clientLabel: string;
  styles: ReturnType<typeof getStyles>;
}) {
  const first = edge.links[0]!;
  const href = explainUrl(exporterUrl, first.namespace, first.service);
  const nodes = [...new Set(edge.links.map((x) => x.node))];
  return (
    <div className={styles.details} data-testid="edge-details">
      <div>
        <strong>{clientLabel}</strong> → <strong>{edge.serviceId}</strong> via {first.ingressIp}
        {first.port ? `:${first.port}` : ''}
      </div>
      <div className={edge.looping ? styles.looping : undefined}>
        {formatProbability(edge.probability)} of new connections loop back{edge.looping ? ' (time out)' : ''}
      </div>
      <div>Nodes: {nodes.join(', ')}</div>
      {worstClientText(service) && (
        <div data-testid="service-headline">
          {service.id}: {worstClientText(service)} of connections from its worst-placed client pods
          {service.knownCallers
            ? `; ${service.knownCallers} known caller pod(s)${service.callersRatio !== undefined ? ` at ${formatProbability(service.callersRatio)}` : ''}`
            : ''}
        </div>
      )}
      {href && (
        <a href={href} target="_blank" rel="noreferrer">
          Explain {first.namespace}/{first.service}
        </a>
      )}
    </div>
  );
}
