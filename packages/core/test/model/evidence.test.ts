/** Node dumps as evidence (docs/model.md): the trace decides steps 1–2 for the nodes they cover. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCluster, buildReport, explain, loadCluster, loadNodeDumps, whatIf } from '../../src';

const DEMO = join(__dirname, '../../../demo');
const NODE = '10.0.1.11';
const cluster = () => loadCluster([{ name: 'demo-cluster.json', text: readFileSync(join(DEMO, 'demo-cluster.json'), 'utf8') }]);
const file = (name: string, edit: (t: string) => string = (t) => t) => ({
  text: edit(readFileSync(join(DEMO, 'node-dumps', NODE, name), 'utf8')),
  file: `${NODE}/${name}`,
});

function dumps(editAddr?: (t: string) => string, editConntrack?: (t: string) => string) {
  return new Map([
    [
      NODE,
      loadNodeDumps({
        iptablesSave: file('iptables-save.txt'),
        ipset: file('ipset.txt'),
        addr: file('addr.txt', editAddr),
        conntrack: file('conntrack.txt', editConntrack),
        nodeAddresses: [NODE],
      }),
    ],
  ]);
}

describe('node dumps as evidence', () => {
  it('the demo dumps confirm the inference and cite the rules', () => {
    const a = analyzeCluster(cluster(), { nodeDumps: dumps() });
    const payments = a.services.find((s) => s.service.name === 'payments-api')!;
    expect(payments.probability).toBeCloseTo((8 * 0.5 + 5 * 0.5) / 36, 12);
    const observed = payments.reasons.filter((r) => r.basis === 'observed');
    expect(observed.map((r) => r.code)).toEqual(['NOT_CAPTURED_EVIDENCE', 'SOURCE_EVIDENCE', 'OBSERVED_UNREPLIED']);
    expect(observed[0]!.source).toContain('KUBE-LOAD-BALANCER rule 1 (10.0.1.11/iptables-save.txt:58)');
    expect(payments.reasons.map((r) => r.code)).not.toContain('EVIDENCE_DISAGREES');
    const inventory = a.services.find((s) => s.service.name === 'inventory-api')!;
    expect(inventory.reasons.find((r) => r.code === 'CAPTURED_EVIDENCE')!.message).toContain('bound on kube-ipvs0');
  });

  it('[UNREPLIED] conntrack entries from local pods to an LB are observed failures per Service, node and workload', () => {
    const report = buildReport(analyzeCluster(cluster(), { nodeDumps: dumps() }));
    const payments = report.services.find((s) => s.name === 'payments-api')!;
    expect(payments.observed).toEqual({
      unrepliedConnections: 3,
      byNode: [{ node: NODE, connections: 3 }],
      byWorkload: [
        { namespace: 'checkout', kind: 'Deployment', name: 'checkout-api', connections: 2 },
        { namespace: 'web', kind: 'Deployment', name: 'storefront', connections: 1 },
      ],
    });
    // An established (replied) connection and one to a non-LB address are not failures.
    expect(report.services.find((s) => s.name === 'orders-api')!.observed).toBeNull();
    expect(report.cluster.evidenceNodes).toBe(1);
  });

  it('evidence overrides inference for its node, and the disagreement is a finding', () => {
    // The node binds payments' LB IP after all (as a fixed build with the annotation would).
    const a = analyzeCluster(cluster(), {
      nodeDumps: dumps(
        (t) => t + '4: kube-ipvs0    inet 10.0.3.15/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n',
      ),
    });
    const payments = a.services.find((s) => s.service.name === 'payments-api')!;
    // 10.0.1.11 (8 clients) is captured now; only 10.0.1.12's 5 clients keep p = 1/2.
    expect(payments.probability).toBeCloseTo((5 * 0.5) / 36, 12);
    const finding = payments.reasons.find((r) => r.code === 'EVIDENCE_DISAGREES')!;
    expect(finding.severity).toBe('warning');
    expect(finding.message).toContain('the profile predicted "leaves with the pod IP" on 10.0.1.11 but its dumps show "captured"');
    const e = explain(a, 'payments-api');
    expect(e.ok && e.explanation.services[0]!.findings.map((f) => f.code)).toContain('EVIDENCE_DISAGREES');
  });

  it('dumps of a node the snapshot does not have are reported, not used', () => {
    const map = dumps();
    map.set('ghost-node', map.get(NODE)!);
    const a = analyzeCluster(cluster(), { nodeDumps: map });
    expect(a.evidenceProblems).toContain(
      'node dumps for "ghost-node": no such node in the snapshot; its dumps were not used (the folder name must be the Node name)',
    );
  });

  it('garbage dumps: problems with file and line, and the node falls back to inference', () => {
    const bad = new Map([
      [
        NODE,
        loadNodeDumps({
          iptablesSave: { text: '*nat\n-A PREROUTING -j\ngarbage here\n', file: `${NODE}/iptables-save.txt` },
          nodeAddresses: [NODE],
        }),
      ],
    ]);
    const a = analyzeCluster(cluster(), { nodeDumps: bad });
    expect(a.evidenceProblems.some((p) => p.startsWith(`${NODE}/iptables-save.txt:`))).toBe(true);
    expect(a.services.find((s) => s.service.name === 'payments-api')!.verdict).toBe('loopback');
  });

  it('what-if predictions after a datapath change rest on the profile, not on stale dumps', () => {
    const a = analyzeCluster(cluster(), { nodeDumps: dumps() });
    const r = whatIf(a, [{ kind: 'trafficPolicy', service: 'payments/payments-api', value: 'Cluster' }]);
    expect(r.services[0]!.after).toEqual({ verdict: 'safe', probability: 0, worstClientProbability: 0 });
  });
});
