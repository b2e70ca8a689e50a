import type { KubeObject, PodSpecLike } from '../kube/objects';
import type { InputProblem } from '../kube/problems';
import type { SourcedObject } from '../kube/snapshot';
import { CILIUM_AGENT_LABELS, CILIUM_NAME, DATAPATH_NAMESPACES, EXCLUDE_FROM_LB_LABEL, KUBE_PROXY_LABELS, KUBE_PROXY_NAME, LABEL, SERVICE_ANNOTATION_KEYS } from '../kube/vocabulary';
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
import { hasModeLine, kubeProxyConfigMode } from './kubeProxyConfig';
import { controllerOf, NamespacedMap, WorkloadRegistry, type OwnerIndex } from './workloads';

/**
 * Normalizes Kubernetes objects into the compact cluster model. Never throws on bad objects: each
 * is skipped (or partly used) and reported in `problems` with its file, item, kind/name and field.
 */
export function buildCluster(objects: SourcedObject[], inheritedProblems: InputProblem[] = []): ClusterModel {
  return buildClusterState(objects, inheritedProblems).cluster;
}

/** The cluster and the workload registry behind it (the live model resolves new pods with it). */
export function buildClusterState(objects: SourcedObject[], inheritedProblems: InputProblem[] = []): { cluster: ClusterModel; registry: WorkloadRegistry } {
  const problems: InputProblem[] = [...inheritedProblems];
  const byKind = groupByKind(objects, problems);
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
  const endpointIps = collectEndpointIps(byKind.get('EndpointSlice') ?? []);
  const podByEndpointIp = new Map<string, number>();
  const pods = buildPods(byKind.get('Pod') ?? [], nodeByName, registry, kubeProxy, cilium, problems, endpointIps, podByEndpointIp);
  readKubeSystem(byKind, kubeProxy, cilium, problems);

  const clientPodCount = countClients(nodes, pods, registry.workloads.length);

  const services = buildServices(byKind.get('Service') ?? [], byKind.get('EndpointSlice') ?? [], nodeByName, pods, problems);

  const cluster: ClusterModel = {
    nodes,
    nodeByName,
    pods,
    workloads: registry.workloads,
    services,
    kubeProxy,
    cilium,
    clientPodCount,
    podByEndpointIp,
    problems,
    ignoredKinds,
  };
  return { cluster, registry };
}

/** One Service rebuilt from its object and its EndpointSlices, at its place in the cluster. */
export function rebuildService(cluster: ClusterModel, index: number, service: SourcedObject, slices: SourcedObject[]): ClusterService {
  const [svc] = buildServices([service], slices, cluster.nodeByName, cluster.pods, cluster.problems);
  svc!.index = index;
  return svc!;
}

/** Every endpoint address of every slice: pods with these IPs are indexed while they are read. */
function collectEndpointIps(slices: SourcedObject[]): Set<string> {
  const ips = new Set<string>();
  for (const o of slices) {
    const endpoints = (o.object as { endpoints?: unknown }).endpoints;
    if (!Array.isArray(endpoints)) continue;
    for (const ep of endpoints) {
      const address = (ep as { addresses?: unknown[] } | null)?.addresses?.[0];
      if (typeof address === 'string') ips.add(address);
    }
  }
  return ips;
}

/** Client pods per node, and per node and workload (the links of §4 are built from these). */
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

const READ_KINDS = new Set(['Node', 'Pod', 'Service', 'EndpointSlice', 'ConfigMap', 'DaemonSet', 'ReplicaSet', 'Job']);

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
  return new Map([...byKind].map(([kind, g]) => [kind, g.list]));
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
    nodes.push({
      index: nodes.length,
      name: obj.metadata!.name!,
      internalIP: internal[0],
      addresses: internal,
      ready: readyCond?.status === 'True',
      excludedFromLb: EXCLUDE_FROM_LB_LABEL in labels,
      providerID: typeof providerID === 'string' && providerID ? providerID : undefined,
      kubeProxyVersion: typeof kubeProxyVersion === 'string' && kubeProxyVersion ? kubeProxyVersion : undefined,
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

/** One Pod object → the model's pod: its node, role (§4 client or not) and top-owner workload. */
export function normalizePod(o: SourcedObject, nodeByName: Map<string, number>, registry: WorkloadRegistry, problems: InputProblem[]): ClusterPod {
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
        problems.push(problemFor(o, `names node "${nodeName}", which is not in the snapshot; not counted as a client (add the Node objects)`, 'spec.nodeName'));
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
  return {
    namespace,
    name,
    node,
    ip: typeof ip === 'string' && ip ? ip : undefined,
    role,
    phase: typeof phase === 'string' ? phase : 'Unknown',
    workload: registry.resolvePod(namespace, name, meta.ownerReferences, stringRecord(meta.labels)),
  };
}

/** The kube-proxy DaemonSet and ConfigMap, and the cilium DaemonSet, when the snapshot has them. */
function readKubeSystem(
  byKind: Map<string, SourcedObject[]>,
  kubeProxy: ClusterModel['kubeProxy'],
  cilium: ClusterModel['cilium'],
  problems: InputProblem[],
): void {
  for (const o of byKind.get('DaemonSet') ?? []) {
    const name = o.object.metadata!.name!;
    const spec = field<PodSpecLike>(o.object, 'spec', 'template', 'spec');
    if (name === KUBE_PROXY_NAME) kubeProxy.daemonSet = containerArgs(spec, /kube-proxy/);
    else if (name === CILIUM_NAME) cilium.image ??= containerArgs(spec, /cilium-agent/).image;
  }
  for (const o of byKind.get('ConfigMap') ?? []) {
    if (o.object.metadata!.name !== KUBE_PROXY_NAME) continue;
    const data = stringRecord(o.object.data);
    const config = data['config.conf'] ?? data['kubeconfig.conf'] ?? Object.values(data).find((v) => typeof v === 'string' && hasModeLine(v));
    if (typeof config !== 'string') {
      problems.push(problemFor(o, 'has no config.conf; the proxy mode is not read from it', 'data'));
      continue;
    }
    kubeProxy.configMapMode = kubeProxyConfigMode(config);
  }
}

const POLICY_ALIASES: Record<string, TrafficPolicy> = { Local: 'Local', Cluster: 'Cluster', OnlyLocal: 'Local', Global: 'Cluster' };

function buildServices(
  list: SourcedObject[],
  slices: SourcedObject[],
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
      ingresses.push({ ip: typeof ip === 'string' ? ip : undefined, hostname: typeof hostname === 'string' ? hostname : undefined, ipMode });
    });
    const clusterIP = typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
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
      invalid,
    };
    services.push(svc);
    byKey.set(`${namespace}/${svc.name}`, svc);
  }
  attachEndpoints(slices, byKey, nodeByName, pods, problems);
  return services;
}

/** Joins EndpointSlices to their Service by the `kubernetes.io/service-name` label. */
function attachEndpoints(
  slices: SourcedObject[],
  byKey: Map<string, ClusterService>,
  nodeByName: Map<string, number>,
  pods: ClusterPod[],
  problems: InputProblem[],
): void {
  let podNode: Map<string, number> | undefined;
  const nodeOfPod = (ref: string): number => {
    // Built only when a slice omits nodeName: most clusters never need it.
    podNode ??= new Map(pods.filter((p) => p.node >= 0).map((p) => [`${p.namespace}/${p.name}`, p.node]));
    return podNode.get(ref) ?? -1;
  };
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
    if (!svc) continue; // A slice of a Service outside the snapshot: nothing to attach it to.
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
      let node = typeof nodeName === 'string' ? (nodeByName.get(nodeName) ?? -1) : -1;
      if (node < 0 && pod) node = nodeOfPod(pod);
      // Only an LB backend needs a node (the API server's own endpoints never have one).
      if (node < 0 && ready && svc.type === 'LoadBalancer') {
        problems.push(
          problemFor(o, `endpoint ${addresses[0]} has no known node (nodeName ${nodeName ?? 'missing'}); it cannot be placed`, `endpoints[${i}].nodeName`),
        );
      }
      const endpoint: ServiceEndpoint = { ip: addresses[0], node, ready };
      if (pod) endpoint.pod = pod;
      svc.endpoints.push(endpoint);
    });
  }
}
