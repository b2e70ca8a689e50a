/**
 * The node agent's evidence document (`loopscope-node-evidence/v1`): what `loopscope-node-agent`
 * serves on `/api/v1/evidence` and the exporter pulls. The agent writes it with this type; the
 * exporter reads it with `readNodeAgentEvidence`, which trusts nothing in it: an agent may be
 * broken, old, or not an agent at all.
 */
import { LoopscopeError } from '../error/loopscopeError';
import { formatIp, parseIp } from '../netfilter/ruleset/cidr';

export const NODE_EVIDENCE_API_VERSION = 'loopscope-node-evidence/v1';

/** One datapath dump as the agent last ran it. */
export interface NodeAgentDump {
  command: string;
  status: string;
  collectedAt?: string;
  attemptedAt?: string;
  error?: string;
  /** The dump's output; left out when the agent is asked for `?dumps=false`. */
  text?: string;
}

/** Counters of one (client IP → LB ingress IP:port, protocol), since the agent started. */
export interface NodeAgentConnection {
  clientIp: string;
  ingressIp: string;
  ingressPort: number;
  protocol: string;
  /** `namespace/name` of the Service the ingress point belongs to, when the agent knows it. */
  service?: string;
  opened: number;
  replied: number;
  unreplied: number;
  lastOpenedAt?: string;
  lastRepliedAt?: string;
  lastUnrepliedAt?: string;
}

export interface NodeAgentEvidenceDocument {
  apiVersion: typeof NODE_EVIDENCE_API_VERSION;
  node: string;
  generatedAt: string;
  /** When the agent started: its counters restart with it. */
  startedAt: string;
  iptablesBackend?: { backend: string; reason: string };
  /** By source: iptablesSave, ip6tablesSave, ipset, addr, nftJson. */
  dumps: Record<string, NodeAgentDump>;
  conntrack: {
    running: boolean;
    command: string;
    restarts: number;
    overflows: number;
    lastError?: string;
    trackedFlows: number;
    evictedFlows: number;
    seriesDropped: number;
  };
  ingress: { source: string; points: number; synced: boolean };
  connections: NodeAgentConnection[];
}

/** What the exporter keeps of a document: checked fields only. */
export interface NodeAgentEvidence {
  node: string;
  startedAt: string;
  /** Dumps with their text, by source. */
  dumps: Map<string, { text: string; collectedAt?: string }>;
  /** Valid connection rows, addresses in canonical form, protocol in lower case. */
  connections: NodeAgentConnection[];
  /** Rows left out: not an object, a bad address, port, protocol or count, or beyond the cap. */
  droppedConnections: number;
}

/** More than an agent keeps (its default is 20,000 series). */
export const MAX_AGENT_CONNECTIONS = 50_000;
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
/** A Node name is a DNS subdomain: at most 253 characters. */
const MAX_NODE_NAME = 253;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
const timestamp = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length <= 64 && Number.isFinite(Date.parse(v)) ? v : undefined;

function connection(v: unknown): NodeAgentConnection | undefined {
  if (!isRecord(v)) return undefined;
  const client = typeof v.clientIp === 'string' ? parseIp(v.clientIp) : null;
  const ingress = typeof v.ingressIp === 'string' ? parseIp(v.ingressIp) : null;
  const port = v.ingressPort;
  const protocol = typeof v.protocol === 'string' ? v.protocol.toLowerCase() : '';
  const opened = count(v.opened);
  const replied = count(v.replied);
  const unreplied = count(v.unreplied);
  if (!client || !ingress || client.family !== ingress.family) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535 || !PROTOCOLS.has(protocol)) return undefined;
  if (opened === undefined || replied === undefined || unreplied === undefined) return undefined;
  const row: NodeAgentConnection = {
    clientIp: formatIp(client),
    ingressIp: formatIp(ingress),
    ingressPort: port,
    protocol,
    opened,
    replied,
    unreplied,
  };
  // namespace/name, each a Kubernetes name; anything else is not a Service the exporter can name.
  if (typeof v.service === 'string' && /^[a-z0-9][a-z0-9.-]{0,252}\/[a-z0-9][a-z0-9.-]{0,252}$/.test(v.service)) row.service = v.service;
  for (const field of ['lastOpenedAt', 'lastRepliedAt', 'lastUnrepliedAt'] as const) {
    const at = timestamp(v[field]);
    if (at !== undefined) row[field] = at;
  }
  return row;
}

/**
 * Checks a parsed evidence document. Throws a one-line `INPUT_INVALID` when it is not one (wrong
 * apiVersion, no node, no connections array); otherwise keeps every good dump and connection row
 * and counts the rows it left out.
 */
export function readNodeAgentEvidence(value: unknown): NodeAgentEvidence {
  if (!isRecord(value) || value.apiVersion !== NODE_EVIDENCE_API_VERSION)
    throw new LoopscopeError('INPUT_INVALID', `not a ${NODE_EVIDENCE_API_VERSION} document`);
  const node = value.node;
  if (typeof node !== 'string' || node === '' || node.length > MAX_NODE_NAME)
    throw new LoopscopeError('INPUT_INVALID', `a ${NODE_EVIDENCE_API_VERSION} document without a node name`);
  if (!Array.isArray(value.connections))
    throw new LoopscopeError('INPUT_INVALID', `a ${NODE_EVIDENCE_API_VERSION} document without a connections array`);

  const dumps = new Map<string, { text: string; collectedAt?: string }>();
  if (isRecord(value.dumps))
    for (const [source, d] of Object.entries(value.dumps))
      if (isRecord(d) && typeof d.text === 'string') dumps.set(source, { text: d.text, collectedAt: timestamp(d.collectedAt) });

  const connections: NodeAgentConnection[] = [];
  let dropped = Math.max(0, value.connections.length - MAX_AGENT_CONNECTIONS);
  for (const raw of value.connections.slice(0, MAX_AGENT_CONNECTIONS)) {
    const row = connection(raw);
    if (row) connections.push(row);
    else dropped++;
  }
  return { node, startedAt: timestamp(value.startedAt) ?? '', dumps, connections, droppedConnections: dropped };
}
