/** Bad input: each problem names the file, item, kind/name and field; the rest is analysed. */
import { analyzeCluster, formatProblem, loadCluster } from '../../src';
import { list, workedExample } from './builders';

describe('malformed snapshots', () => {
  it('invalid JSON names the file, line and column, and loses only that file', () => {
    const good = JSON.stringify(list(workedExample('Local')));
    const cluster = loadCluster([
      { name: 'good.json', text: good },
      { name: 'bad.json', text: '{\n  "kind": "List",\n  "items": [ {,] }' },
    ]);
    expect(cluster.problems.map(formatProblem)).toEqual([expect.stringMatching(/^bad\.json: not valid JSON \(.* at line 3, column \d+\)/)]);
    expect(cluster.services).toHaveLength(1);
  });

  it('one bad object is skipped and reported, the rest analysed', () => {
    const objects = workedExample('Local');
    const broken = objects.find((o) => o.kind === 'Pod' && o.metadata!.namespace === 'shop')!;
    delete (broken.spec as Record<string, unknown>).nodeName;
    const items: unknown[] = [...objects, 42, { kind: 'Pod', metadata: {} }, { metadata: { name: 'x' } }];
    const cluster = loadCluster([{ name: 'snap.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) }]);
    const messages = cluster.problems.map(formatProblem);
    const index = objects.indexOf(broken);
    expect(messages).toContain(
      `snap.json: item ${index} (Pod shop/${broken.metadata!.name}): spec.nodeName: is Running but has no spec.nodeName; not counted as a client`,
    );
    expect(messages).toContain(`snap.json: item ${objects.length} is not a Kubernetes object; skipped`);
    expect(messages).toContain(`snap.json: item ${objects.length + 1} (Pod ?): metadata.name: has no metadata.name; skipped`);
    expect(messages.some((m) => m.includes('has no kind'))).toBe(true);
    const sa = analyzeCluster(cluster).services[0]!;
    // The pod without a node was on n1: 3 clients remain there, 7 in all.
    expect(cluster.clientPodCount).toBe(7);
    expect(sa.probability).toBeCloseTo((3 * 0.5 + 2 * 0.5) / 7, 12);
  });

  it('an unknown field value makes that Service unknown, naming the field', () => {
    const objects = workedExample('Local');
    (objects.find((o) => o.kind === 'Service')!.spec as Record<string, unknown>).externalTrafficPolicy = 'Sometimes';
    const cluster = loadCluster([{ name: 's.json', text: JSON.stringify(list(objects)) }]);
    const sa = analyzeCluster(cluster).services[0]!;
    expect(sa.verdict).toBe('unknown');
    expect(sa.reasons[0]).toMatchObject({ code: 'INVALID_FIELD' });
    expect(cluster.problems.map(formatProblem)[0]).toContain('s.json: item');
    expect(cluster.problems.map(formatProblem)[0]).toContain('spec.externalTrafficPolicy: value "Sometimes" is not Local or Cluster');
  });

  it('several files merge; duplicates are said once', () => {
    const objects = workedExample('Local');
    const nodes = objects.filter((o) => o.kind === 'Node');
    const rest = objects.filter((o) => o.kind !== 'Node');
    const cluster = loadCluster([
      { name: 'nodes.json', text: JSON.stringify(list(nodes)) },
      { name: 'rest.json', text: JSON.stringify(list(rest)) },
      { name: 'again.json', text: JSON.stringify(list(nodes)) },
    ]);
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.problems.map(formatProblem)).toEqual(['snapshot: 3 object(s) appeared more than once; the last copy read was used']);
    expect(analyzeCluster(cluster).services[0]!.probability).toBe(0.375);
  });

  it('an empty List is said, not silently accepted', () => {
    const cluster = loadCluster([{ name: 'empty.json', text: '{"apiVersion":"v1","kind":"List","items":[]}' }]);
    expect(cluster.problems.map(formatProblem)).toEqual(['empty.json: holds no Kubernetes objects (an empty List?)']);
  });
});
