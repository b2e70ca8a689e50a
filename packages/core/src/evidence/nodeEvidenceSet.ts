import type { DatapathDecision } from '../analysis/datapath';
import type { DatapathEvidence, ObservedCaller, ObservedFailure } from '../analysis/evidence';
import { ingressLabel, type IngressPoint } from '../analysis/ingress';
import type { Reason } from '../analysis/reasons';
import type { ClusterModel, ClusterService, TrafficPolicy } from '../cluster/model';
import { formatIp, parseIp } from '../netfilter/ruleset/cidr';
import { ruleLabel, ruleSource } from '../netfilter/describe';
import type { NodeEvidence } from '../netfilter/nodeEvidence';
import { formatDumpProblem } from '../netfilter/ruleset/problems';
import { traceLbPacket, type MatchedRule, type TraceResult } from '../netfilter/trace';

/**
 * Node dumps as evidence for the model (docs/model.md): for the nodes they cover, the trace
 * through the node's real nat table decides steps 1–2 instead of the profile (the analysis compares
 * it with the inference), and `[UNREPLIED]` conntrack entries from local pods to an LB ingress are
 * observed failed connections. Built by the loader (`analyzeCluster({ nodeDumps })`).
 */
export class NodeEvidenceSet implements DatapathEvidence {
  /** Node index → its evidence. */
  private readonly byNode = new Map<number, { name: string; evidence: NodeEvidence }>();
  /** Dump problems and dumps of nodes the snapshot does not have, for the user. */
  readonly problems: string[] = [];

  constructor(
    private readonly cluster: ClusterModel,
    dumps: Map<string, NodeEvidence>,
  ) {
    for (const [name, evidence] of dumps) {
      const index = cluster.nodeByName.get(name);
      for (const p of evidence.problems) this.problems.push(formatDumpProblem(p));
      if (index === undefined) {
        this.problems.push(
          `node dumps for "${name}": no such node in the snapshot; its dumps were not used (the folder name must be the Node name)`,
        );
        continue;
      }
      this.byNode.set(index, { name, evidence });
    }
  }

  get nodeCount(): number {
    return this.byNode.size;
  }

  /** Steps 1–2 need the nat rules (iptables-save or the nftables ruleset) or, at least, the addresses on kube-ipvs0. */
  covers(node: number): boolean {
    const e = this.byNode.get(node)?.evidence;
    return (
      !!e &&
      (e.iptables.ipv4 !== null || e.iptables.ipv6 !== null || (e.nft !== null && e.nft.tables.length > 0) || e.isBound('0.0.0.0') !== null)
    );
  }

  decide(node: number, _service: ClusterService, ingress: IngressPoint, _policy: TrafficPolicy): DatapathDecision | undefined {
    const entry = this.byNode.get(node);
    if (!entry || !ingress.ip) return undefined;
    const src = this.samplePodIp(node, ingress.ip);
    let trace: TraceResult;
    try {
      trace = traceLbPacket(entry.evidence, {
        src,
        dst: ingress.ip,
        dport: ingress.port,
        proto: ingress.protocol.toLowerCase() === 'udp' ? 'udp' : 'tcp',
        hook: 'PREROUTING',
      });
    } catch {
      return undefined; // A malformed address: fall back to inference rather than guess.
    }
    const where = `${entry.name}'s dumps`;
    const cite = (rules: MatchedRule[]): string => rules.map((r) => `${ruleLabel(r)} (${ruleSource(r)}): ${r.text}`).join('; ');
    const reasons: Reason[] = [];
    let decision: DatapathDecision;
    if (trace.captured) {
      const how =
        trace.how === 'bound-address'
          ? `${ingress.ip} is bound on ${trace.boundInterface ?? 'a node interface'}, so the node serves it itself`
          : `the node's nat rules DNAT it to ${trace.dnat ?? 'an endpoint'} on the node`;
      reasons.push({
        code: 'CAPTURED_EVIDENCE',
        message: how,
        source: trace.rules.length ? cite(trace.rules.slice(-3)) : where,
        basis: 'observed',
        evidence: { trace: trace.how, captureProbability: trace.captureProbability },
      });
      decision = { outcome: 'captured', reasons };
    } else {
      reasons.push({
        code: 'NOT_CAPTURED_EVIDENCE',
        message: `no nat rule DNATs ${ingressLabel(ingress)} and it is not bound on the node, so the packet leaves for the LB`,
        source: `${where}: ${trace.rules.length} nat rule(s) matched${trace.rules.length ? ` — ${cite(trace.rules.slice(0, 3))}` : ''}`,
        basis: 'observed',
      });
      if (trace.snat) {
        reasons.push({
          code: 'SOURCE_EVIDENCE',
          message: `${trace.snatTarget ?? 'MASQUERADE'} on the way out: the LB sees the node IP`,
          source: trace.snatRule ? cite([trace.snatRule]) : where,
          basis: 'observed',
        });
      } else {
        reasons.push({
          code: 'SOURCE_EVIDENCE',
          message: 'no SNAT on the way out: the LB sees the pod IP',
          source: `${where}: no MASQUERADE/SNAT rule matched at postrouting`,
          basis: 'observed',
        });
      }
      decision = { outcome: 'leaves', source: trace.snat ? 'node' : 'pod', reasons };
    }
    if (trace.uncertain) {
      reasons.push({
        code: 'EVIDENCE_UNCERTAIN',
        message: `the trace on ${entry.name} is uncertain: ${trace.reasons.join('; ')}`,
        source: where,
        basis: 'observed',
        severity: 'warning',
      });
    }
    return decision;
  }

  /**
   * Every conntrack entry from a client pod on the node to an LB ingress ip:port, one per pod and
   * ingress (unreplied if any of its entries is): the observed known callers.
   */
  observedCallers(): ObservedCaller[] {
    const ingress = this.ingressIndex();
    const podsByIp = new Map<string, number>();
    this.cluster.pods.forEach((p, i) => {
      if (p.ip && p.role === 'client' && this.byNode.has(p.node)) podsByIp.set(canonical(p.ip), i);
    });
    const out = new Map<string, ObservedCaller>();
    for (const [node, { name, evidence }] of this.byNode) {
      for (const c of evidence.conntrack) {
        if (c.original.dport === null) continue;
        const ip = formatIp(c.original.dst);
        const service = ingress.get(`${ip}|${c.original.dport}|${c.protocol}`);
        if (service === undefined) continue;
        const pod = podsByIp.get(formatIp(c.original.src));
        if (pod === undefined || this.cluster.pods[pod]!.node !== node) continue;
        const key = `${service}|${pod}|${ip}|${c.original.dport}`;
        const hit = out.get(key);
        if (hit) {
          hit.unreplied ||= c.unreplied;
          continue;
        }
        out.set(key, {
          service,
          pod,
          ip,
          port: c.original.dport,
          unreplied: c.unreplied,
          where: `conntrack -L on node ${name}, line ${c.line}${c.unreplied ? ' [UNREPLIED]' : ''}`,
        });
      }
      // A node agent's event counters: the same, one entry per (client, ingress) already. No counts
      // in `where`: the model is not rebuilt when they grow (only for a new pair or a first failure).
      for (const c of evidence.connections) {
        if (c.replied + c.unreplied === 0) continue;
        const service = ingress.get(`${c.ingressIp}|${c.ingressPort}|${c.protocol}`);
        if (service === undefined) continue;
        const pod = podsByIp.get(c.clientIp);
        if (pod === undefined || this.cluster.pods[pod]!.node !== node) continue;
        const key = `${service}|${pod}|${c.ingressIp}|${c.ingressPort}`;
        if (out.has(key)) continue; // the dump's entry names its line
        out.set(key, {
          service,
          pod,
          ip: c.ingressIp,
          port: c.ingressPort,
          unreplied: c.unreplied > 0,
          where: `${evidence.connectionsSource} on node ${name}${c.unreplied > 0 ? ' [UNREPLIED]' : ''}`,
        });
      }
    }
    return [...out.values()];
  }

  private ingressIndex(): Map<string, number> {
    const ingress = new Map<string, number>();
    for (const svc of this.cluster.services) {
      if (svc.type !== 'LoadBalancer') continue;
      for (const i of svc.ingresses) {
        if (!i.ip) continue;
        for (const p of svc.ports) ingress.set(`${canonical(i.ip)}|${p.port}|${p.protocol.toLowerCase()}`, svc.index);
      }
    }
    return ingress;
  }

  /** `[UNREPLIED]` entries from a client pod on a covered node to an LB ingress ip:port. */
  observed(): ObservedFailure[] {
    const ingress = new Map<string, number>();
    for (const svc of this.cluster.services) {
      if (svc.type !== 'LoadBalancer') continue;
      for (const i of svc.ingresses) {
        if (!i.ip) continue;
        for (const p of svc.ports) ingress.set(`${canonical(i.ip)}|${p.port}|${p.protocol.toLowerCase()}`, svc.index);
      }
    }
    const podsByIp = new Map<string, number>();
    this.cluster.pods.forEach((p, i) => {
      if (p.ip && this.byNode.has(p.node) && (p.role === 'client' || p.role === 'hostNetwork')) podsByIp.set(canonical(p.ip), i);
    });
    const counts = new Map<string, ObservedFailure>();
    for (const [node, { evidence }] of this.byNode) {
      for (const c of evidence.conntrack) {
        if (!c.unreplied || c.original.dport === null) continue;
        const service = ingress.get(`${formatIp(c.original.dst)}|${c.original.dport}|${c.protocol}`);
        if (service === undefined) continue;
        const pod = podsByIp.get(formatIp(c.original.src));
        if (pod === undefined || this.cluster.pods[pod]!.node !== node) continue;
        const workload = this.cluster.pods[pod]!.workload;
        const key = `${service}|${node}|${workload}`;
        const hit = counts.get(key);
        if (hit) hit.connections++;
        else counts.set(key, { service, node, workload, connections: 1 });
      }
    }
    return [...counts.values()];
  }

  private podIps?: Map<number, { v4?: string; v6?: string }>;

  /** A client pod's IP on the node, so `-s` matches (the KUBE-EXT pod-source rule) see a real pod source. */
  private samplePodIp(node: number, dst: string): string {
    if (!this.podIps) {
      this.podIps = new Map();
      for (const p of this.cluster.pods) {
        if (p.role !== 'client' || !p.ip || !this.byNode.has(p.node)) continue;
        let ips = this.podIps.get(p.node);
        if (!ips) this.podIps.set(p.node, (ips = {}));
        if (p.ip.includes(':')) ips.v6 ??= p.ip;
        else ips.v4 ??= p.ip;
      }
    }
    const v6 = dst.includes(':');
    const ips = this.podIps.get(node);
    // No client pod there: a source no kube-proxy rule singles out.
    return (v6 ? ips?.v6 : ips?.v4) ?? (v6 ? 'fd00::1' : '10.255.255.1');
  }
}

function canonical(ip: string): string {
  const parsed = parseIp(ip);
  return parsed ? formatIp(parsed) : ip;
}
