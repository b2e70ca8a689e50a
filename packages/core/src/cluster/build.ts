import { declaredAddresses } from '../kube/containerAddresses';
import type { KubeObject, PodSpecLike } from '../kube/objects';
import type { InputProblem } from '../kube/problems';
import type { SourcedObject } from '../kube/snapshot';
import {
  CILIUM_AGENT_LABELS,
  CILIUM_NAME,
  DATAPATH_NAMESPACES,
  EXCLUDE_FROM_LB_LABEL,
  IP_MASQ_AGENT_NAME,
  KUBE_PROXY_LABELS,
  KUBE_PROXY_NAME,
  LABEL,
  SERVICE_ANNOTATION_KEYS,
} from '../kube/vocabulary';
import { parseCidr, type Cidr } from '../netfilter/ruleset/cidr';
import { readIpMasqAgent } from './ipMasqAgent';
import type {
  ClusterModel,
  ClusterNode,
  ClusterPod,
  ClusterService,
  IpMode,
  LbIngress,
  PodRole,
  ServiceEndpoint,
  ServicePort,
  TrafficPolicy,
} from './model';
import { hasModeLine, readKubeProxyConfig } from './kubeProxyConfig';
import { controllerOf, NamespacedMap, WorkloadRegistry, type OwnerIndex } from './workloads';

/**
 * Normalizes Kubernetes objects into the compact cluster model. Never throws on bad objects: each
 * is skipped (or partly used) and reported in `problems` with its file, item, kind/name and field.
 */
export function buildCluster(objects: SourcedObject[], inheritedProblems: InputProblem[] = [], options: BuildOptions = {}): ClusterModel {
  return buildClusterState(objects, inheritedProblems, options).cluster;
}

export interface BuildOptions {
  /** Kinds the caller read completely even when they had no objects (a watcher's synced empty lists). */
  presentKinds?: Iterable<string>;
}

/** The cluster and the workload registry behind it (the live model resolves new pods with it). */
export function buildClusterState(
  objects: SourcedObject[],
  inheritedProblems: InputProblem[] = [],
  options: BuildOptions = {},
): { cluster: ClusterModel; registry: WorkloadRegistry } {
  const problems: InputProblem[] = [...inheritedProblems];
  const byKind = groupByKind(objects, problems);
  const inputKinds = new Set([...byKind.keys(), ...(options.presentKinds ?? [])]);
  // No prototype: a kind named `__proto__` or `constructor` is counted like any other.
  const ignoredKinds: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [kind, list] of byKind) {
    if (!READ_KINDS.has(kind)) ignoredKinds[kind] = list.length;
  }

  const nodes = buildNodes(byKind.get('Node') ?? [], problems);
  const nodeByName = new Map(nodes.map((n) => [n.name, n.index]));
  const owners: OwnerIndex = {
    replicaSets: ownerMap(byKind.get('ReplicaSet')),
    jobs: ownerMap(byKind.get('Job')),
  };
  const registry = new WorkloadRegistry(owners);
  const kubeProxy: ClusterModel['kubeProxy'] = { pods: [] };
  const cilium: ClusterModel['cilium'] = { agentNodes: new Set() };
  const endpointIps = collectEndpointIps(byKind.get('EndpointSlice') ?? [], byKind.get('Endpoints') ?? []);
  const podByEndpointIp = new Map<string, number>();
  warnUnrelatedFiles(byKind.get('Node') ?? [], byKind.get('Pod') ?? [], problems);
  addMissingNodes(byKind.get('Pod') ?? [], nodes, nodeByName, problems);
  const pods = buildPods(byKind.get('Pod') ?? [], nodeByName, registry, kubeProxy, cilium, problems, endpointIps, podByEndpointIp);
  const ipMasqAgent = readKubeSystem(byKind, kubeProxy, cilium, problems);

  const clientPodCount = countClients(nodes, pods, registry.workloads.length);

  const services = buildServices(
    byKind.get('Service') ?? [],
    byKind.get('EndpointSlice') ?? [],
    byKind.get('Endpoints') ?? [],
    nodes,
    nodeByName,
    pods,
    problems,
  );

  const cluster: ClusterModel = {
    nodes,
    nodeByName,
    pods,
    workloads: registry.workloads,
    services,
    kubeProxy,
    cilium,
    clientPodCount,
    inputKinds,
    podByEndpointIp,
    problems,
    ignoredKinds,
  };
  if (ipMasqAgent) cluster.ipMasqAgent = ipMasqAgent;
  return { cluster, registry };
}

/** One Service rebuilt from its object and its EndpointSlices, at its place in the cluster. */
export function rebuildService(
  cluster: ClusterModel,
  index: number,
  service: SourcedObject,
  slices: SourcedObject[],
  endpoints: SourcedObject[] = [],
): ClusterService {
  // Problems were said at the full rebuild: a Service changing must not add them again.
  const [svc] = buildServices([service], slices, endpoints, cluster.nodes, cluster.nodeByName, cluster.pods, []);
  svc!.index = index;
  return svc!;
}

/** Every endpoint address of every slice (and v1 Endpoints): pods with these IPs are indexed while they are read. */
function collectEndpointIps(slices: SourcedObject[], endpointsObjects: SourcedObject[]): Set<string> {
  const ips = new Set<string>();
  for (const o of slices) {
    const endpoints = (o.object as { endpoints?: unknown }).endpoints;
    if (!Array.isArray(endpoints)) continue;
    for (const ep of endpoints) {
      const address = (ep as { addresses?: unknown[] } | null)?.addresses?.[0];
      if (typeof address === 'string') ips.add(address);
    }
  }
  for (const o of endpointsObjects) {
    for (const subset of arrayField(o.object, 'subsets')) {
      for (const key of ['addresses', 'notReadyAddresses']) {
        for (const a of arrayField(subset, key)) {
          const ip = field<string>(a, 'ip');
          if (typeof ip === 'string') ips.add(ip);
        }
      }
    }
  }
  return ips;
}

function arrayField(obj: unknown, key: string): unknown[] {
  const v = field<unknown>(obj, key);
  return Array.isArray(v) ? v : [];
}

/**
 * Snapshot files that hold Nodes but whose pods never run on each other's nodes look like dumps of
 * different clusters (two `kubectl get nodes,pods` outputs given together): said as a warning.
 * Files are joined when a pod in one names a node in the other.
 */
function warnUnrelatedFiles(nodeObjects: SourcedObject[], pods: SourcedObject[], problems: InputProblem[]): void {
  const nodeSource = new Map<string, string>();
  for (const o of nodeObjects) nodeSource.set(o.object.metadata!.name!, o.source);
  const withNodes = new Set(nodeSource.values());
  if (withNodes.size < 2) return;
  const parent = new Map<string, string>();
  const root = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const src of withNodes) parent.set(src, src);
  let lastPair = '';
  for (const o of pods) {
    const nodeName = podNodeName(o.object);
    const target = nodeName !== undefined ? nodeSource.get(nodeName) : undefined;
    if (target === undefined) continue;
    const pair = `${o.source}\n${target}`;
    if (pair === lastPair) continue; // pods come in runs from one file
    lastPair = pair;
    if (!parent.has(o.source)) parent.set(o.source, o.source);
    const a = root(o.source);
    const b = root(target);
    if (a !== b) parent.set(a, b);
  }
  const groups = new Map<string, string[]>();
  for (const src of withNodes) {
    const r = root(src);
    groups.set(r, [...(groups.get(r) ?? []), src]);
  }
  if (groups.size < 2) return;
  const described = [...groups.values()]
    .slice(0, 4)
    .map((g) => g.slice(0, 3).join(' + '))
    .join('; ');
  problems.push({
    source: 'snapshot',
    message: `warning: the input files fall into ${groups.size} groups whose pods never run on each other's nodes (${described}): they look like they come from different clusters`,
  });
}

/**
 * Running pods that name a node the input does not hold are still clients (docs/model.md): their node gets a
 * placeholder (not Ready, no backend), and the input is said to be incomplete — or, when none of
 * the pods' nodes is in the input, to look like it comes from another cluster.
 */
function addMissingNodes(pods: SourcedObject[], nodes: ClusterNode[], nodeByName: Map<string, number>, problems: InputProblem[]): void {
  const realNodes = nodes.length;
  const named = new Set<string>();
  const missing = new Map<string, number>();
  for (const o of pods) {
    const nodeName = podNodeName(o.object);
    if (nodeName === undefined || (o.object.status as { phase?: unknown } | undefined)?.phase !== 'Running') continue;
    named.add(nodeName);
    if (!nodeByName.has(nodeName)) missing.set(nodeName, (missing.get(nodeName) ?? 0) + 1);
  }
  if (missing.size === 0) return;
  for (const name of missing.keys()) {
    nodeByName.set(name, nodes.length);
    nodes.push({
      index: nodes.length,
      name,
      addresses: [],
      ready: false,
      excludedFromLb: false,
      missing: true,
      clientPods: 0,
      clientWorkloads: [],
    });
  }
  const pods_ = [...missing.values()].reduce((a, b) => a + b, 0);
  const names = [...missing.keys()].slice(0, 5).join(', ') + (missing.size > 5 ? `, … ${missing.size - 5} more` : '');
  problems.push({
    source: 'snapshot',
    kind: 'Node',
    message: `${pods_} running pod(s) name ${missing.size} node(s) not in the input (${names}); they still count as clients, and those nodes are taken to hold no LB backend — the input is incomplete (add \`kubectl get nodes -o json\`)`,
  });
  if (realNodes > 0 && missing.size === named.size) {
    problems.push({
      source: 'snapshot',
      message: `warning: none of the ${named.size} node(s) the pods run on is among the ${realNodes} Node object(s): the inputs look like they come from different clusters`,
    });
  }
}

/** Client pods per node, and per node and workload (the links of docs/model.md are built from these). */
function countClients(nodes: ClusterNode[], pods: ClusterPod[], workloads: number): number {
  // One small-integer key per (workload, node) keeps the Map on its fast path (no heap numbers);
  // a cluster too big for that falls back to a Map per node.
  const stride = nodes.length + 1;
  const smallKeys = workloads * stride < 2 ** 30;
  const perNodeWorkload = new Map<number, number>();
  const perNode = smallKeys ? [] : nodes.map(() => new Map<number, number>());
  let count = 0;
  for (const pod of pods) {
    if (pod.role !== 'client') continue;
    count++;
    nodes[pod.node]!.clientPods++;
    const m = smallKeys ? perNodeWorkload : perNode[pod.node]!;
    const key = smallKeys ? pod.workload * stride + pod.node : pod.workload;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  if (smallKeys) {
    for (const [key, n] of perNodeWorkload) {
      const workload = Math.floor(key / stride);
      nodes[key - workload * stride]!.clientWorkloads.push([workload, n]);
    }
  } else {
    perNode.forEach((m, i) => (nodes[i]!.clientWorkloads = [...m]));
  }
  return count;
}

const READ_KINDS = new Set([
  'Node',
  'Pod',
  'Service',
  'EndpointSlice',
  'Endpoints',
  'ConfigMap',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'Namespace',
]);

function problemFor(o: SourcedObject, message: string, field?: string): InputProblem {
  const meta = o.object.metadata;
  return {
    source: o.source,
    item: o.index,
    kind: typeof o.object.kind === 'string' ? o.object.kind : '?',
    namespace: typeof meta?.namespace === 'string' ? meta.namespace : undefined,
    name: typeof meta?.name === 'string' ? meta.name : undefined,
    field,
    message,
  };
}

/**
 * Objects by kind, each checked for a kind and a name. The same object in two files (or twice in
 * one) keeps its first place with the last copy read, and that is said once. Kinds loopscope does
 * not read are only counted.
 */
function groupByKind(objects: SourcedObject[], problems: InputProblem[]): Map<string, SourcedObject[]> {
  const byKind = new Map<string, { list: SourcedObject[]; seen: NamespacedMap<number> }>();
  let duplicates = 0;
  const kubeSystemUids = new Map<string, string>();
  for (const o of objects) {
    const kind = o.object.kind;
    if (typeof kind !== 'string' || kind === '') {
      problems.push(problemFor(o, 'has no kind; skipped (is this `kubectl get … -o json` output?)', 'kind'));
      continue;
    }
    const meta = o.object.metadata;
    if (!meta || typeof meta !== 'object' || typeof meta.name !== 'string' || meta.name === '') {
      problems.push(problemFor(o, 'has no metadata.name; skipped', 'metadata.name'));
      continue;
    }
    if (kind === 'Namespace' && meta.name === 'kube-system' && typeof meta.uid === 'string' && !kubeSystemUids.has(meta.uid))
      kubeSystemUids.set(meta.uid, o.source);
    let group = byKind.get(kind);
    if (!group) byKind.set(kind, (group = { list: [], seen: new NamespacedMap() }));
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
    const prev = group.seen.get(namespace, meta.name);
    if (prev !== undefined) {
      group.list[prev] = o;
      duplicates++;
    } else {
      group.seen.set(namespace, meta.name, group.list.length);
      group.list.push(o);
    }
  }
  if (duplicates > 0) {
    problems.push({ source: 'snapshot', message: `${duplicates} object(s) appeared more than once; the last copy read was used` });
  }
  if (kubeSystemUids.size > 1) {
    const seen = [...kubeSystemUids].map(([uid, source]) => `${uid} in ${source}`).join(', ');
    problems.push({
      source: 'snapshot',
      kind: 'Namespace',
      message: `warning: the kube-system Namespace has ${kubeSystemUids.size} different uids (${seen}): the inputs look like they come from different clusters`,
    });
  }
  return new Map([...byKind].map(([kind, g]) => [kind, g.list]));
}

/** A pod's `spec.nodeName` when it is a non-empty string (read for every pod, so without `field`'s path array). */
function podNodeName(pod: KubeObject): string | undefined {
  const spec = pod.spec;
  const name = spec !== null && typeof spec === 'object' ? (spec as { nodeName?: unknown }).nodeName : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function field<T = unknown>(obj: unknown, ...path: string[]): T | undefined {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur as T | undefined;
}

/** A string field, or undefined when it is missing or any other type (an object here once crashed a template). */
function stringField(obj: unknown, ...path: string[]): string | undefined {
  const v = field(obj, ...path);
  return typeof v === 'string' ? v : undefined;
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return value as Record<string, string>;
}

function buildNodes(list: SourcedObject[], problems: InputProblem[]): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const o of list) {
    const obj = o.object;
    const addresses = field<Array<{ type?: string; address?: string }>>(obj, 'status', 'addresses');
    const internal = Array.isArray(addresses)
      ? addresses.filter((a) => a && a.type === 'InternalIP' && typeof a.address === 'string').map((a) => a.address as string)
      : [];
    if (internal.length === 0) {
      problems.push(problemFor(o, 'has no InternalIP address; the node is kept, but SNAT to its IP cannot be shown', 'status.addresses'));
    }
    const conditions = field<Array<{ type?: string; status?: string }>>(obj, 'status', 'conditions');
    const readyCond = Array.isArray(conditions) ? conditions.find((c) => c && c.type === 'Ready') : undefined;
    const labels = stringRecord(obj.metadata?.labels);
    const providerID = stringField(obj, 'spec', 'providerID');
    const kubeProxyVersion = stringField(obj, 'status', 'nodeInfo', 'kubeProxyVersion');
    const kubeletVersion = stringField(obj, 'status', 'nodeInfo', 'kubeletVersion');
    nodes.push({
      index: nodes.length,
      name: obj.metadata!.name!,
      internalIP: internal[0],
      addresses: internal,
      ready: readyCond?.status === 'True',
      excludedFromLb: EXCLUDE_FROM_LB_LABEL in labels,
      providerID: typeof providerID === 'string' && providerID ? providerID : undefined,
      kubeProxyVersion: typeof kubeProxyVersion === 'string' && kubeProxyVersion ? kubeProxyVersion : undefined,
      kubeletVersion: typeof kubeletVersion === 'string' && kubeletVersion ? kubeletVersion : undefined,
      clientPods: 0,
      clientWorkloads: [],
    });
  }
  return nodes;
}

function ownerMap(list: SourcedObject[] | undefined): NamespacedMap<{ kind?: string; name?: string; controller?: boolean }> {
  const m = new NamespacedMap<{ kind?: string; name?: string; controller?: boolean }>();
  for (const o of list ?? []) {
    m.set(o.object.metadata?.namespace ?? '', o.object.metadata!.name!, controllerOf(o.object.metadata?.ownerReferences) ?? {});
  }
  return m;
}

function isKubeProxy(name: string, labels: Record<string, string>): boolean {
  return KUBE_PROXY_LABELS.some(([k, v]) => labels[k] === v) || /^kube-proxy(-|$)/.test(name);
}

function isCiliumAgent(labels: Record<string, string>): boolean {
  return CILIUM_AGENT_LABELS.some(([k, v]) => labels[k] === v);
}

function containerArgs(spec: PodSpecLike | undefined, containerName: RegExp): { args: string[]; image?: string } {
  const containers = Array.isArray(spec?.containers) ? spec!.containers : [];
  const c = containers.find((x) => x && typeof x.name === 'string' && containerName.test(x.name)) ?? containers[0];
  if (!c) return { args: [] };
  const args = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].filter(
    (a): a is string => typeof a === 'string',
  );
  return { args, image: typeof c.image === 'string' ? c.image : undefined };
}

function buildPods(
  list: SourcedObject[],
  nodeByName: Map<string, number>,
  registry: WorkloadRegistry,
  kubeProxy: ClusterModel['kubeProxy'],
  cilium: ClusterModel['cilium'],
  problems: InputProblem[],
  endpointIps: Set<string>,
  podByEndpointIp: Map<string, number>,
): ClusterPod[] {
  const pods: ClusterPod[] = [];
  for (const o of list) {
    const pod = normalizePod(o, nodeByName, registry, problems);
    if (pod.role === 'client' && pod.ip !== undefined && endpointIps.has(pod.ip)) podByEndpointIp.set(pod.ip, pods.length);
    pods.push(pod);
    if (pod.phase === 'Running' && pod.node >= 0 && isDatapathPod(o.object)) {
      const labels = stringRecord(o.object.metadata!.labels);
      const spec = (o.object.spec ?? {}) as PodSpecLike;
      if (isKubeProxy(pod.name, labels)) {
        const { args, image } = containerArgs(spec, /kube-proxy/);
        kubeProxy.pods.push({ node: pod.node, name: `${pod.namespace}/${pod.name}`, args, image });
      } else {
        cilium.agentNodes.add(pod.node);
        cilium.image ??= containerArgs(spec, /cilium-agent/).image;
      }
    }
  }
  return pods;
}

/**
 * A kube-proxy or cilium agent pod: it decides the node's datapath profile. They run in kube-system
 * (cilium sometimes in its own namespace): checking only there keeps the hot path short.
 */
export function isDatapathPod(obj: KubeObject): boolean {
  const meta = obj.metadata;
  if (!meta || !DATAPATH_NAMESPACES.includes(meta.namespace ?? '')) return false;
  const labels = stringRecord(meta.labels);
  return isKubeProxy(meta.name ?? '', labels) || isCiliumAgent(labels);
}

/** One Pod object → the model's pod: its node, role (docs/model.md client or not) and top-owner workload. */
export function normalizePod(
  o: SourcedObject,
  nodeByName: Map<string, number>,
  registry: WorkloadRegistry,
  problems: InputProblem[],
): ClusterPod {
  const obj = o.object;
  const meta = obj.metadata!;
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  const name = meta.name!;
  const spec = (obj.spec ?? {}) as PodSpecLike;
  const status = obj.status as { phase?: unknown; podIP?: unknown } | undefined;
  const phase = status?.phase;
  const nodeName = spec.nodeName;
  let node = -1;
  if (typeof nodeName === 'string' && nodeName) {
    const idx = nodeByName.get(nodeName);
    if (idx === undefined) {
      if (phase === 'Running') {
        problems.push(
          problemFor(
            o,
            `names node "${nodeName}", which is not in the snapshot; not counted as a client (add the Node objects)`,
            'spec.nodeName',
          ),
        );
      }
    } else node = idx;
  } else if (phase === 'Running') {
    problems.push(problemFor(o, 'is Running but has no spec.nodeName; not counted as a client', 'spec.nodeName'));
  }
  let role: PodRole;
  if (phase !== 'Running') role = 'notRunning';
  else if (node < 0) role = 'unscheduled';
  else if (spec.hostNetwork === true) role = 'hostNetwork';
  else role = 'client';
  const ip = status?.podIP;
  const pod: ClusterPod = {
    namespace,
    name,
    node,
    ip: typeof ip === 'string' && ip ? ip : undefined,
    role,
    phase: typeof phase === 'string' ? phase : 'Unknown',
    workload: registry.resolvePod(namespace, name, meta.ownerReferences, stringRecord(meta.labels)),
  };
  const declared = role === 'client' ? declaredAddresses(spec.containers) : undefined;
  if (declared) pod.declared = declared;
  return pod;
}

/** The kube-proxy DaemonSet and ConfigMap, and the cilium DaemonSet, when the snapshot has them. */
function readKubeSystem(
  byKind: Map<string, SourcedObject[]>,
  kubeProxy: ClusterModel['kubeProxy'],
  cilium: ClusterModel['cilium'],
  problems: InputProblem[],
): ClusterModel['ipMasqAgent'] {
  let ipMasqAgent: ClusterModel['ipMasqAgent'];
  for (const o of byKind.get('DaemonSet') ?? []) {
    const name = o.object.metadata!.name!;
    const spec = field<PodSpecLike>(o.object, 'spec', 'template', 'spec');
    if (name === KUBE_PROXY_NAME) kubeProxy.daemonSet = containerArgs(spec, /kube-proxy/);
    else if (name === CILIUM_NAME) cilium.image ??= containerArgs(spec, /cilium-agent/).image;
  }
  for (const o of byKind.get('ConfigMap') ?? []) {
    const name = o.object.metadata!.name;
    if (name === IP_MASQ_AGENT_NAME && (o.object.metadata!.namespace ?? 'kube-system') === 'kube-system') {
      const r = readIpMasqAgent(stringRecord(o.object.data), 'ConfigMap kube-system/ip-masq-agent');
      if (r.problem) problems.push(problemFor(o, r.problem, 'data'));
      ipMasqAgent = r.config;
      continue;
    }
    if (name !== KUBE_PROXY_NAME) continue;
    const data = stringRecord(o.object.data);
    // `kubeconfig.conf` beside it is a kubeconfig, not the proxy's configuration.
    const config =
      data['config.conf'] ?? Object.entries(data).find(([k, v]) => k !== 'kubeconfig.conf' && typeof v === 'string' && hasModeLine(v))?.[1];
    if (typeof config !== 'string') {
      problems.push(problemFor(o, 'has no config.conf; the proxy mode is not read from it', 'data'));
      continue;
    }
    const reading = readKubeProxyConfig(config);
    if (reading.problem) problems.push(problemFor(o, `config.conf ${reading.problem}; the proxy mode from it is unknown`, 'data'));
    kubeProxy.configMapMode = reading.mode;
  }
  return ipMasqAgent;
}

const POLICY_ALIASES: Record<string, TrafficPolicy> = { Local: 'Local', Cluster: 'Cluster', OnlyLocal: 'Local', Global: 'Cluster' };

function buildServices(
  list: SourcedObject[],
  slices: SourcedObject[],
  endpointsObjects: SourcedObject[],
  nodes: ClusterNode[],
  nodeByName: Map<string, number>,
  pods: ClusterPod[],
  problems: InputProblem[],
): ClusterService[] {
  const services: ClusterService[] = [];
  const byKey = new Map<string, ClusterService>();
  for (const o of list) {
    const obj = o.object;
    const meta = obj.metadata!;
    const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
    const invalid: ClusterService['invalid'] = [];
    let trafficPolicy: TrafficPolicy | undefined = 'Cluster';
    const rawPolicy = spec.externalTrafficPolicy;
    if (rawPolicy !== undefined && rawPolicy !== null && rawPolicy !== '') {
      trafficPolicy = typeof rawPolicy === 'string' && Object.hasOwn(POLICY_ALIASES, rawPolicy) ? POLICY_ALIASES[rawPolicy] : undefined;
      if (!trafficPolicy) {
        const message = `value ${JSON.stringify(rawPolicy)} is not Local or Cluster; the Service is reported unknown`;
        invalid.push({ field: 'spec.externalTrafficPolicy', message });
        problems.push(problemFor(o, message, 'spec.externalTrafficPolicy'));
      }
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(stringRecord(meta.annotations))) {
      if (SERVICE_ANNOTATION_KEYS.has(k) && typeof v === 'string') annotations[k] = v;
    }
    const ports: ServicePort[] = [];
    const rawPorts = Array.isArray(spec.ports) ? spec.ports : [];
    rawPorts.forEach((p: unknown, i: number) => {
      const port = field<number>(p, 'port');
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        problems.push(problemFor(o, `port ${JSON.stringify(port)} is not a port number; that port is skipped`, `spec.ports[${i}].port`));
        return;
      }
      const protocol = stringField(p, 'protocol');
      const nodePort = field<number>(p, 'nodePort');
      const name = stringField(p, 'name');
      ports.push({
        name: typeof name === 'string' && name ? name : undefined,
        port,
        protocol: typeof protocol === 'string' && protocol ? protocol : 'TCP',
        nodePort: typeof nodePort === 'number' ? nodePort : undefined,
      });
    });
    const ingresses: LbIngress[] = [];
    const rawIngress = field<unknown[]>(obj, 'status', 'loadBalancer', 'ingress');
    (Array.isArray(rawIngress) ? rawIngress : []).forEach((ing, i) => {
      const ip = stringField(ing, 'ip');
      const hostname = stringField(ing, 'hostname');
      const rawMode = field(ing, 'ipMode'); // any type: a non-string is reported below
      let ipMode: IpMode = 'VIP';
      if (rawMode === 'Proxy') ipMode = 'Proxy';
      else if (rawMode !== undefined && rawMode !== 'VIP') {
        const message = `value ${JSON.stringify(rawMode)} is not VIP or Proxy; the Service is reported unknown`;
        invalid.push({ field: `status.loadBalancer.ingress[${i}].ipMode`, message });
        problems.push(problemFor(o, message, `status.loadBalancer.ingress[${i}].ipMode`));
      }
      if (typeof ip !== 'string' && typeof hostname !== 'string') {
        problems.push(problemFor(o, 'has neither ip nor hostname; that ingress is skipped', `status.loadBalancer.ingress[${i}]`));
        return;
      }
      ingresses.push({
        ip: typeof ip === 'string' ? ip : undefined,
        hostname: typeof hostname === 'string' ? hostname : undefined,
        ipMode,
      });
    });
    const clusterIP = typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    const sourceRanges: Cidr[] = [];
    const sourceRangesText: string[] = [];
    const rawRanges = Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : [];
    rawRanges.slice(0, 1000).forEach((r: unknown, i: number) => {
      const cidr = typeof r === 'string' ? parseCidr(r.trim()) : null;
      if (!cidr) {
        const message = `${JSON.stringify(r)?.slice(0, 60)} is not a CIDR; the Service is reported unknown`;
        invalid.push({ field: `spec.loadBalancerSourceRanges[${i}]`, message });
        problems.push(problemFor(o, message, `spec.loadBalancerSourceRanges[${i}]`));
        return;
      }
      sourceRanges.push(cidr);
      sourceRangesText.push((r as string).trim());
    });
    const selector = spec.selector;
    const svc: ClusterService = {
      index: services.length,
      namespace,
      name: meta.name!,
      type,
      clusterIP,
      trafficPolicy,
      annotations,
      ports,
      ingresses,
      endpoints: [],
      endpointSource: 'none',
      hasSelector: selector !== null && typeof selector === 'object' && Object.keys(selector).length > 0,
      sourceRanges,
      sourceRangesText,
      invalid,
    };
    if (typeof spec.loadBalancerClass === 'string' && spec.loadBalancerClass) svc.loadBalancerClass = spec.loadBalancerClass;
    services.push(svc);
    byKey.set(`${namespace}/${svc.name}`, svc);
  }
  const placer = endpointPlacer(nodes, nodeByName, pods);
  attachEndpoints(slices, byKey, placer, problems, list.length > 0);
  attachV1Endpoints(endpointsObjects, byKey, placer, problems);
  return services;
}

/** An endpoint's node index from its nodeName (or its pod's node); -1 when unknown or a node missing from the input. */
type EndpointPlacer = (nodeName: unknown, pod: string | undefined) => number;

function endpointPlacer(nodes: ClusterNode[], nodeByName: Map<string, number>, pods: ClusterPod[]): EndpointPlacer {
  let podNode: Map<string, number> | undefined;
  return (nodeName, pod) => {
    let node = typeof nodeName === 'string' ? (nodeByName.get(nodeName) ?? -1) : -1;
    if (node < 0 && pod) {
      // Built only when an endpoint omits nodeName: most clusters never need it.
      podNode ??= new Map(pods.filter((p) => p.node >= 0).map((p) => [`${p.namespace}/${p.name}`, p.node]));
      node = podNode.get(pod) ?? -1;
    }
    // A node missing from the input holds no backend (docs/model.md): its endpoints cannot be placed.
    return node >= 0 && nodes[node]!.missing ? -1 : node;
  };
}

function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** The port names an EndpointSlice / Endpoints subset serves; undefined when it lists none (every port). */
function portNames(raw: unknown): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((p) => {
    const name = field<unknown>(p, 'name');
    return typeof name === 'string' ? name : '';
  });
}

/** Joins EndpointSlices to their Service by the `kubernetes.io/service-name` label. */
function attachEndpoints(
  slices: SourcedObject[],
  byKey: Map<string, ClusterService>,
  placeEndpoint: EndpointPlacer,
  problems: InputProblem[],
  haveServices: boolean,
): void {
  const orphans = new Set<string>();
  for (const o of slices) {
    const obj = o.object as KubeObject & { endpoints?: unknown };
    const meta = obj.metadata!;
    const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
    const serviceName = stringRecord(meta.labels)[LABEL.serviceName];
    if (!serviceName) {
      problems.push(problemFor(o, 'has no kubernetes.io/service-name label; skipped', 'metadata.labels'));
      continue;
    }
    const svc = byKey.get(`${namespace}/${serviceName}`);
    if (!svc) {
      // A slice of a Service outside the snapshot: nothing to attach it to.
      orphans.add(`${namespace}/${serviceName}`);
      continue;
    }
    const addressType = field<string>(obj, 'addressType');
    if (addressType === 'FQDN') continue; // not an address an LB can send to
    svc.endpointSource = 'EndpointSlice';
    const ports = portNames(field(obj, 'ports'));
    const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
    endpoints.forEach((ep: unknown, i: number) => {
      const addresses = field<string[]>(ep, 'addresses');
      if (!Array.isArray(addresses) || typeof addresses[0] !== 'string') {
        problems.push(problemFor(o, 'has no addresses; that endpoint is skipped', `endpoints[${i}].addresses`));
        return;
      }
      // The API says a nil `ready` means ready.
      const ready = field<boolean>(ep, 'conditions', 'ready') !== false;
      const targetKind = stringField(ep, 'targetRef', 'kind');
      const targetName = stringField(ep, 'targetRef', 'name');
      const targetNs = stringField(ep, 'targetRef', 'namespace') ?? namespace;
      const pod = targetKind === 'Pod' && typeof targetName === 'string' ? `${targetNs}/${targetName}` : undefined;
      // discovery.k8s.io/v1beta1 (Kubernetes ≤ 1.20) placed endpoints by topology instead of nodeName.
      const nodeName = stringField(ep, 'nodeName') ?? stringField(ep, 'topology', LABEL.hostname);
      const node = placeEndpoint(nodeName, pod);
      const endpoint: ServiceEndpoint = {
        ip: addresses[0],
        node,
        ready,
        family: addressType === 'IPv6' ? 6 : addressType === 'IPv4' ? 4 : familyOf(addresses[0]),
      };
      if (pod) endpoint.pod = pod;
      if (ports) endpoint.ports = ports;
      svc.endpoints.push(endpoint);
    });
  }
  if (orphans.size > 0 && haveServices) {
    const names = [...orphans].slice(0, 5).join(', ') + (orphans.size > 5 ? `, … ${orphans.size - 5} more` : '');
    problems.push({
      source: 'snapshot',
      kind: 'EndpointSlice',
      message: `warning: EndpointSlices name ${orphans.size} Service(s) not in the input (${names}): the inputs may be partial or come from different clusters`,
    });
  }
}

/**
 * v1 `Endpoints` (old clusters, `kubectl get endpoints` dumps), read for a Service that has no
 * EndpointSlice: each subset's addresses (ready) and notReadyAddresses, with the subset's ports.
 */
function attachV1Endpoints(
  list: SourcedObject[],
  byKey: Map<string, ClusterService>,
  placeEndpoint: EndpointPlacer,
  problems: InputProblem[],
): void {
  for (const o of list) {
    const meta = o.object.metadata!;
    const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
    const svc = byKey.get(`${namespace}/${meta.name}`);
    if (!svc || svc.endpointSource === 'EndpointSlice') continue;
    svc.endpointSource = 'Endpoints';
    arrayField(o.object, 'subsets').forEach((subset, s) => {
      const ports = portNames(field(subset, 'ports'));
      for (const [key, ready] of [
        ['addresses', true],
        ['notReadyAddresses', false],
      ] as const) {
        arrayField(subset, key).forEach((a, i) => {
          const ip = field<unknown>(a, 'ip');
          if (typeof ip !== 'string' || ip === '') {
            problems.push(problemFor(o, 'has no ip; that address is skipped', `subsets[${s}].${key}[${i}].ip`));
            return;
          }
          const targetKind = field<string>(a, 'targetRef', 'kind');
          const targetName = field<string>(a, 'targetRef', 'name');
          const targetNs = field<string>(a, 'targetRef', 'namespace') ?? namespace;
          const pod = targetKind === 'Pod' && typeof targetName === 'string' ? `${targetNs}/${targetName}` : undefined;
          const endpoint: ServiceEndpoint = { ip, node: placeEndpoint(field(a, 'nodeName'), pod), ready, family: familyOf(ip) };
          if (pod) endpoint.pod = pod;
          if (ports) endpoint.ports = ports;
          svc.endpoints.push(endpoint);
        });
      }
    });
  }
}
