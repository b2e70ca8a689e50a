/**
 * Synthetic clusters of any size and mix, deterministic for a seed: nodes with the provider's
 * signals, kube-proxy (or Cilium) and CNI agents on every node, DNS, application Services of the
 * requested kinds with the workloads behind them, client workloads, and EndpointSlices consistent
 * with the pods. Used by tests, the benchmark and `loopscope generate`.
 */
import { AddressBlock, alignUp, cidr, intToIp, ipToInt, nextPowerOfTwo } from './ip';
import { toKubeList } from './lists';
import { ClusterFacts, ObjectFactory, PodTemplateRuntime, WorkloadPlan, sortRecord } from './objects';
import { ANNOTATIONS, PROFILES, ProviderProfile, TKE_FIXED_BUILD, TKE_OLD_BUILD } from './providers';
import { SeededRandom } from './random';
import {
  GENERATOR_PROVIDERS,
  GENERATOR_PROXY_MODES,
  GenerateClusterOptions,
  GeneratedCluster,
  GeneratedClusterItems,
  GeneratedLoadBalancerIngress,
  GeneratedPod,
  GeneratedServicePort,
  GeneratorProvider,
  ResolvedGenerateClusterOptions,
} from './types';
import {
  COREFILE,
  RESOURCE_PROFILES,
  dnsServicePlan,
  appEnv,
  appPlan,
  ciliumAgentPlan,
  ciliumOperatorPlan,
  dnsPlan,
  kubeProxyPlan,
  systemDaemonSetPlan,
} from './workloads';

/** "Now" of every generated snapshot. Fixed, so that output does not depend on the clock. */
export const GENERATOR_NOW = Date.UTC(2025, 2, 18, 9, 30, 0);
const MINUTE = 60_000;
const DAY = 86_400_000;

export const DEFAULT_GENERATE_OPTIONS = {
  seed: 1,
  nodes: 6,
  pods: 90,
  services: 10,
  internalLbServices: 3,
  publicLbServices: 1,
  localShare: 0.4,
  directToPodShare: 0.1,
  ipModeProxyShare: 0,
  preventLoopbackShare: 0.1,
  fixedBuildShare: 0.5,
  endpointsPerService: { min: 2, max: 6 },
  notReadyPodShare: 0.03,
  pendingPodShare: 0.005,
  excludedNodeShare: 0,
  notReadyNodeShare: 0,
  pendingIngressShare: 0,
  awsIngressIp: false,
  clusterName: 'acme-prod',
} as const;

const NAMESPACE_WORDS = [
  'payments',
  'orders',
  'inventory',
  'search',
  'web',
  'catalog',
  'reports',
  'checkout',
  'accounts',
  'billing',
  'identity',
  'notifications',
  'shipping',
  'pricing',
  'recommendations',
  'analytics',
  'media',
  'messaging',
  'fulfillment',
  'loyalty',
  'risk',
  'ledger',
  'fraud',
  'promotions',
  'reviews',
  'support',
  'content',
  'marketing',
  'partners',
  'warehouse',
  'returns',
  'tax',
  'subscriptions',
  'geo',
  'maps',
  'booking',
  'chat',
  'feeds',
  'ads',
  'data-platform',
];

const NAME_WORDS = [
  'account',
  'address',
  'audit',
  'auth',
  'balance',
  'basket',
  'batch',
  'cart',
  'coupon',
  'currency',
  'customer',
  'delivery',
  'device',
  'discount',
  'email',
  'event',
  'export',
  'feature',
  'feed',
  'file',
  'gift',
  'image',
  'import',
  'invoice',
  'item',
  'label',
  'ledger',
  'listing',
  'locale',
  'location',
  'login',
  'member',
  'merchant',
  'metric',
  'offer',
  'order',
  'page',
  'payment',
  'payout',
  'policy',
  'price',
  'product',
  'profile',
  'quota',
  'quote',
  'rating',
  'receipt',
  'refund',
  'report',
  'review',
  'route',
  'rule',
  'schedule',
  'score',
  'search',
  'session',
  'settlement',
  'shipment',
  'sku',
  'slot',
  'stock',
  'store',
  'tag',
  'tenant',
  'ticket',
  'token',
  'track',
  'transfer',
  'user',
  'vendor',
  'voucher',
  'wallet',
];
const LB_SUFFIXES = ['api', 'gateway', 'edge', 'grpc', 'public-api'];
const SVC_SUFFIXES = ['svc', 'backend', 'grpc', 'cache', 'service', 'store', 'query', 'api'];
const CLIENT_SUFFIXES = ['worker', 'consumer', 'scheduler', 'sync', 'processor', 'indexer', 'notifier', 'aggregator', 'poller', 'web'];
const CRON_SUFFIXES = ['cleanup', 'report', 'rollup', 'backfill', 'reconcile', 'export'];
const REPLICA_CHOICES = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8, 10, 12, 16, 20];

/** Validates options, fills defaults, picks the provider. Throws RangeError naming the option. */
export function resolveGenerateOptions(options: GenerateClusterOptions = {}): ResolvedGenerateClusterOptions {
  const d = DEFAULT_GENERATE_OPTIONS;
  const seed = options.seed ?? d.seed;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number (got ${seed})`);
  const count = (name: keyof GenerateClusterOptions, value: number | undefined, fallback: number, min = 0): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${v})`);
    return v;
  };
  const share = (name: keyof GenerateClusterOptions, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${name} must be a fraction between 0 and 1 (got ${v})`);
    return v;
  };
  const nodes = count('nodes', options.nodes, d.nodes, 1);
  const pods = count('pods', options.pods, d.pods);
  const services = count('services', options.services, d.services, 2);
  const internalLbServices = count('internalLbServices', options.internalLbServices, Math.min(d.internalLbServices, services - 2));
  const publicLbServices = count(
    'publicLbServices',
    options.publicLbServices,
    Math.min(d.publicLbServices, Math.max(0, services - 2 - internalLbServices)),
  );
  if (internalLbServices + publicLbServices > services - 2) {
    throw new RangeError(
      `services (${services}) must be at least internalLbServices + publicLbServices + 2 = ${internalLbServices + publicLbServices + 2} (default/kubernetes and the cluster DNS Service are always generated)`,
    );
  }
  let provider: GeneratorProvider;
  if (options.provider !== undefined) {
    if (!GENERATOR_PROVIDERS.includes(options.provider))
      throw new RangeError(`provider must be one of ${GENERATOR_PROVIDERS.join(', ')} (got ${String(options.provider)})`);
    provider = options.provider;
  } else if (options.providers !== undefined) {
    const entries = GENERATOR_PROVIDERS.map((p) => [p, options.providers?.[p] ?? 0] as const);
    if (!entries.some(([, w]) => w > 0)) throw new RangeError('providers needs at least one positive weight');
    for (const [p, w] of entries) if (!(w >= 0)) throw new RangeError(`providers.${p} must be a weight >= 0 (got ${w})`);
    provider = new SeededRandom(seed ^ 0x5eed).weighted(entries);
  } else {
    provider = 'tke';
  }
  const proxyMode = options.proxyMode ?? PROFILES[provider].defaultProxyMode;
  if (!GENERATOR_PROXY_MODES.includes(proxyMode))
    throw new RangeError(`proxyMode must be one of ${GENERATOR_PROXY_MODES.join(', ')} (got ${String(proxyMode)})`);
  const epsRaw = options.endpointsPerService ?? d.endpointsPerService;
  const eps = Array.isArray(epsRaw) ? { min: epsRaw[0] as number, max: epsRaw[1] as number } : (epsRaw as { min: number; max: number });
  if (!Number.isInteger(eps.min) || !Number.isInteger(eps.max) || eps.min < 0 || eps.max < eps.min) {
    throw new RangeError(`endpointsPerService must be integers with 0 <= min <= max (got ${eps.min}..${eps.max})`);
  }
  const appServices = services - 2;
  let namespaces: readonly string[];
  if (Array.isArray(options.namespaces)) {
    namespaces = options.namespaces as readonly string[];
    if (namespaces.length === 0) throw new RangeError('namespaces must name at least one namespace');
    for (const ns of namespaces) {
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw new RangeError(`namespaces: "${ns}" is not a valid namespace name`);
      if (ns === 'kube-system') throw new RangeError('namespaces: kube-system is generated already; name application namespaces');
    }
  } else {
    const n = count('namespaces', options.namespaces as number | undefined, Math.min(300, Math.max(3, Math.ceil(appServices / 40))), 1);
    namespaces = Array.from({ length: n }, (_, i) =>
      i < NAMESPACE_WORDS.length
        ? NAMESPACE_WORDS[i]!
        : `${NAMESPACE_WORDS[i % NAMESPACE_WORDS.length]}-${Math.floor(i / NAMESPACE_WORDS.length) + 1}`,
    );
  }
  const version = options.kubeProxyVersion;
  if (version !== undefined && !/^v\d+\.\d+\.\d+/.test(version))
    throw new RangeError(`kubeProxyVersion must look like v1.20.6-tke.12 (got ${version})`);
  const clusterName = options.clusterName ?? d.clusterName;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterName)) throw new RangeError(`clusterName must be a DNS label (got ${clusterName})`);
  return {
    seed,
    nodes,
    pods,
    services,
    internalLbServices,
    publicLbServices,
    provider,
    proxyMode,
    localShare: share('localShare', options.localShare, d.localShare),
    directToPodShare: share('directToPodShare', options.directToPodShare, d.directToPodShare),
    ipModeProxyShare: share('ipModeProxyShare', options.ipModeProxyShare, d.ipModeProxyShare),
    preventLoopbackShare: share('preventLoopbackShare', options.preventLoopbackShare, d.preventLoopbackShare),
    kubeProxyVersion: version,
    fixedBuildShare: share('fixedBuildShare', options.fixedBuildShare, d.fixedBuildShare),
    endpointsPerService: { min: eps.min, max: eps.max },
    namespaces,
    notReadyPodShare: share('notReadyPodShare', options.notReadyPodShare, d.notReadyPodShare),
    pendingPodShare: share('pendingPodShare', options.pendingPodShare, d.pendingPodShare),
    excludedNodeShare: share('excludedNodeShare', options.excludedNodeShare, d.excludedNodeShare),
    notReadyNodeShare: share('notReadyNodeShare', options.notReadyNodeShare, d.notReadyNodeShare),
    pendingIngressShare: share('pendingIngressShare', options.pendingIngressShare, d.pendingIngressShare),
    awsIngressIp: options.awsIngressIp ?? d.awsIngressIp,
    clusterName,
  };
}

interface NodeSlot {
  index: number;
  name: string;
  ip: string;
  zone: string;
  ready: boolean;
  created: number;
  version: string;
  uid: string;
  block: AddressBlock;
  count: number;
  cap: number;
}

type ServiceKind = 'internal' | 'public' | 'cluster';

interface ServiceDraft {
  namespace: string;
  name: string;
  kind: ServiceKind;
  clusterIP: string;
  headless: boolean;
  local: boolean;
  directToPod: boolean;
  preventLoopback: boolean;
  ipModeProxy: boolean;
  pendingIngress: boolean;
  lbIp?: string;
  ports: GeneratedServicePort[];
  healthCheckNodePort?: number;
  replicas: number;
  workloadKind: 'Deployment' | 'StatefulSet';
  created: number;
  backing: GeneratedPod[];
}

/** Picks exactly round(share × n) of n indices, at random. */
function subset(rng: SeededRandom, n: number, share: number): Set<number> {
  const k = Math.round(share * n);
  const idx = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return new Set(idx.slice(0, k));
}

/** Kubernetes minor version of `v1.20.6-tke.12`. */
export function minorOf(version: string): number {
  const m = /^v?\d+\.(\d+)/.exec(version);
  return m ? Number(m[1]) : 0;
}

export function generateCluster(options: GenerateClusterOptions = {}): GeneratedCluster {
  const o = resolveGenerateOptions(options);
  const rng = new SeededRandom(o.seed);
  const profile: ProviderProfile = PROFILES[o.provider];
  const clusterVersion = o.kubeProxyVersion ?? profile.defaultVersion;
  const minor = minorOf(clusterVersion);
  const now = GENERATOR_NOW;
  const clusterCreated = now - (rng.int(200, 700) * DAY + rng.int(0, DAY / MINUTE) * MINUTE);
  const cilium = o.proxyMode === 'cilium';
  const names = new NameBook();

  // ------------------------------------------------------------ address plan
  const appServiceCount = o.services - 2;
  const zones = profile.zones;
  const perZone = Math.ceil(o.nodes / zones.length);
  const zoneSize = Math.max(256, nextPowerOfTwo(perZone + 16));
  const lbSubnetSize = Math.max(256, nextPowerOfTwo(o.internalLbServices + 16));
  const vpc = new AddressBlock(ipToInt(profile.addresses.vpcBase), 1 << 20);
  vpc.take(zoneSize); // the first subnet is left to other VPC tenants
  const zoneSubnets = zones.map(() => vpc.take(zoneSize).skip(3));
  const lbSubnet = vpc.take(lbSubnetSize);
  const vpcCidr = cidr(vpc.base, Math.max(65536, nextPowerOfTwo(lbSubnet.base + lbSubnet.size - vpc.base)));

  const systemPerNode = cilium ? 1 : profile.cniDaemonSets.length + 1;
  const avgPerNode = o.pods / o.nodes;
  const needPerNode = Math.ceil(avgPerNode * 1.6) + systemPerNode + 4;
  const podBlockSize = Math.max(profile.addresses.podBlockSize, nextPowerOfTwo(needPerNode + 3));
  const perNodeCap = podBlockSize - 3;
  const maxPods = Math.max(profile.maxPods, Math.min(perNodeCap, profile.maxPods * Math.ceil(needPerNode / profile.maxPods)));
  const podRangeSize = Math.max(profile.provider === 'gcp' ? 262144 : 65536, nextPowerOfTwo(o.nodes * podBlockSize));
  if (podRangeSize > 1 << 24)
    throw new RangeError(`nodes × pods per node (${o.nodes} × ${podBlockSize}) needs more pod addresses than a /8`);
  const podRange = new AddressBlock(alignUp(ipToInt(profile.addresses.podBase), podRangeSize), podRangeSize);
  const clusterCidr = podRange.cidr;
  const serviceSize = Math.max(profile.addresses.serviceSize, nextPowerOfTwo(2 * o.services + 64));
  if (serviceSize > 1 << 20) throw new RangeError(`services (${o.services}) do not fit a /12 Service range`);
  const serviceBase = alignUp(ipToInt(profile.addresses.serviceBase), serviceSize);
  const usedClusterIPs = new Set<number>([serviceBase + 1, serviceBase + 10]);
  const clusterIP = (): string => {
    for (;;) {
      const ip = serviceBase + rng.int(11, serviceSize - 2);
      if (!usedClusterIPs.has(ip)) {
        usedClusterIPs.add(ip);
        return intToIp(ip);
      }
    }
  };
  const usedLbIPs = new Set<number>();
  const internalIp = (): string => {
    for (;;) {
      const ip = lbSubnet.base + rng.int(4, lbSubnet.size - 2);
      if (!usedLbIPs.has(ip)) {
        usedLbIPs.add(ip);
        return intToIp(ip);
      }
    }
  };
  const usedPublic = new Set<string>();
  const publicIp = (): string => {
    for (;;) {
      const ip = `${rng.pick(profile.addresses.publicPrefixes)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      if (!usedPublic.has(ip)) {
        usedPublic.add(ip);
        return ip;
      }
    }
  };

  const dnsReplicas = Math.max(2, Math.ceil(o.nodes / 200));
  const agentNames = cilium ? ['cilium'] : ['kube-proxy', ...profile.cniDaemonSets.map((d) => d.name)];
  const systemNeeded = o.nodes * agentNames.length + dnsReplicas + (cilium ? 2 : 0);
  if (o.pods < systemNeeded) {
    throw new RangeError(
      `pods (${o.pods}) is below the ${systemNeeded} system pods of ${o.nodes} node${o.nodes === 1 ? '' : 's'} (${agentNames.join(', ')} on every node, ${dnsReplicas} DNS replicas${cilium ? ', 2 cilium-operator' : ''})`,
    );
  }

  const minBacking = appServiceCount * o.endpointsPerService.min;
  if (o.pods - systemNeeded < minBacking) {
    throw new RangeError(
      `pods (${o.pods}) leaves ${o.pods - systemNeeded} application pods after ${systemNeeded} system pods, fewer than (services - 2) × endpointsPerService.min = ${appServiceCount} × ${o.endpointsPerService.min}`,
    );
  }

  const facts: ClusterFacts = { profile, minor, now, clusterName: o.clusterName, clusterCidr, nodeCount: o.nodes };
  const f = new ObjectFactory(rng, facts);
  const items: GeneratedClusterItems = {
    nodes: [],
    pods: [],
    services: [],
    endpointSlices: [],
    replicaSets: [],
    jobs: [],
    daemonSets: [],
    configMaps: [],
  };

  // ------------------------------------------------------------ nodes
  const tkeMix = o.provider === 'tke' && o.kubeProxyVersion === undefined;
  const fixedNodes = tkeMix ? subset(rng, o.nodes, o.fixedBuildShare) : new Set<number>();
  const notReadyNodes = subset(rng, o.nodes, o.notReadyNodeShare);
  const excludedNodes = subset(rng, o.nodes, o.excludedNodeShare);
  const slots: NodeSlot[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const zi = i % zones.length;
    const zone = zones[zi]!;
    const ip = intToIp(zoneSubnets[zi]!.next());
    const identity = profile.nodeIdentity(rng, i, ip, zone, o.clusterName);
    const block = podRange.take(podBlockSize);
    const version = tkeMix ? (fixedNodes.has(i) ? TKE_FIXED_BUILD : TKE_OLD_BUILD) : clusterVersion;
    // Nodes come and go (autoscaling, upgrades); the youngest is five days old, older than any CronJob run kept.
    const created = clusterCreated + Math.floor(rng.next() * (now - clusterCreated - 5 * DAY));
    const ready = !notReadyNodes.has(i);
    const node = f.node({
      name: identity.name,
      ip,
      zone,
      providerID: identity.providerID,
      labels: identity.labels,
      podCIDR: profile.addresses.setsPodCIDR ? block.cidr : undefined,
      version,
      created,
      ready,
      excludedFromLoadBalancers: excludedNodes.has(i),
      maxPods,
    });
    f.registerNodeUid(node.metadata.name, node.metadata.uid);
    items.nodes.push(node);
    block.skip(2); // network address and the bridge/gateway
    slots.push({
      index: i,
      name: identity.name,
      ip,
      zone,
      ready,
      created,
      version,
      uid: node.metadata.uid,
      block,
      count: 0,
      cap: Math.min(perNodeCap, maxPods),
    });
  }

  const place = (slot: NodeSlot, hostNetwork: boolean): { node: { name: string; ip: string }; podIP?: string } => {
    slot.count++;
    return hostNetwork ? { node: slot } : { node: slot, podIP: intToIp(slot.block.next()) };
  };
  const randomSlot = (): NodeSlot => {
    let i = rng.int(0, slots.length - 1);
    for (let tries = 0; tries < slots.length; tries++) {
      const s = slots[i]!;
      if (s.count < s.cap) return s;
      i = (i + 1) % slots.length;
    }
    throw new RangeError(`pods (${o.pods}) do not fit on ${o.nodes} nodes of ${maxPods} pods each`);
  };
  const podCreated = (slot: NodeSlot | undefined, wlCreated: number): number => {
    const from = Math.max(wlCreated, slot ? slot.created + 5 * MINUTE : wlCreated);
    const to = now - 10 * MINUTE;
    return from >= to ? to : from + Math.floor(rng.next() * (to - from));
  };

  // ------------------------------------------------------------ kube-system
  const systemCreated = clusterCreated + 3 * MINUTE;
  const systemPods: GeneratedPod[] = [];
  if (!cilium) {
    const dsUid = rng.uuid();
    const byVersion = new Map<string, PodTemplateRuntime>();
    const versions = [...new Set(slots.map((s) => s.version))].sort(compareBuild);
    for (const v of versions) byVersion.set(v, f.template(kubeProxyPlan(profile, v, o.proxyMode, clusterCidr, systemCreated, dsUid)));
    for (const slot of slots) {
      const rt = byVersion.get(slot.version)!;
      const at = place(slot, true);
      systemPods.push(
        f.pod(rt, {
          ...at,
          name: profile.kubeProxyStaticPod ? `kube-proxy-${slot.name}` : undefined,
          state: slot.ready ? 'ready' : 'running',
          created: podCreated(slot, systemCreated),
        }),
      );
    }
    if (!profile.kubeProxyStaticPod) {
      const newest = byVersion.get(versions[versions.length - 1]!)!;
      const ready = slots.filter((s) => s.ready).length;
      items.daemonSets.push(f.daemonSet(newest, slots.length, ready, undefined, versions.length > 1 ? { type: 'OnDelete' } : undefined));
    }
  }
  const nodeAgents = cilium
    ? [ciliumAgentPlan(systemCreated, rng.uuid())]
    : profile.cniDaemonSets.map((ds) => systemDaemonSetPlan(ds, systemCreated, rng.uuid()));
  for (const plan of nodeAgents) {
    const rt = f.template(plan);
    for (const slot of slots) {
      systemPods.push(
        f.pod(rt, {
          ...place(slot, plan.hostNetwork === true),
          state: slot.ready ? 'ready' : 'running',
          created: podCreated(slot, systemCreated),
        }),
      );
    }
    items.daemonSets.push(f.daemonSet(rt, slots.length, slots.filter((s) => s.ready).length));
  }
  const dnsPods: GeneratedPod[] = [];
  {
    const rt = f.template(dnsPlan(profile, systemCreated));
    for (let i = 0; i < dnsReplicas; i++) {
      const slot = randomSlot();
      dnsPods.push(f.pod(rt, { ...place(slot, false), state: slot.ready ? 'ready' : 'running', created: podCreated(slot, systemCreated) }));
    }
    items.replicaSets.push(f.replicaSet(rt, dnsReplicas, dnsPods.filter(isReady).length, rng.uuid()));
    systemPods.push(...dnsPods);
  }
  if (cilium) {
    const rt = f.template(ciliumOperatorPlan(systemCreated));
    const a = randomSlot();
    let b = randomSlot();
    for (let t = 0; t < 8 && b === a && slots.length > 1; t++) b = randomSlot();
    for (const slot of [a, b])
      systemPods.push(
        f.pod(rt, { ...place(slot, true), state: slot.ready ? 'ready' : 'running', created: podCreated(slot, systemCreated) }),
      );
    items.replicaSets.push(f.replicaSet(rt, 2, 2, rng.uuid()));
  }
  items.configMaps.push(...systemConfigMaps(f, profile, o, clusterCidr, vpcCidr, cilium, systemCreated));

  // ------------------------------------------------------------ pod budget
  const systemCount = systemPods.length;
  const budget = o.pods - systemCount;

  // ------------------------------------------------------------ Service drafts
  const order = rng.shuffle(Array.from({ length: appServiceCount }, (_, i) => i));
  const kindOf = new Map<number, ServiceKind>();
  order.forEach((svc, k) =>
    kindOf.set(svc, k < o.internalLbServices ? 'internal' : k < o.internalLbServices + o.publicLbServices ? 'public' : 'cluster'),
  );
  const lbIndices = [...Array(appServiceCount).keys()].filter((i) => kindOf.get(i) !== 'cluster');
  const internalIndices = lbIndices.filter((i) => kindOf.get(i) === 'internal');
  const pick = (pool: number[], share: number): Set<number> => {
    const s = subset(rng, pool.length, share);
    return new Set([...s].map((k) => pool[k]!));
  };
  const localSet = pick(lbIndices, o.localShare);
  const directSet = profile.supportsDirectToPod ? pick(internalIndices, o.directToPodShare) : new Set<number>();
  const preventSet = o.provider === 'tke' ? pick(internalIndices, o.preventLoopbackShare) : new Set<number>();
  const proxyModeSet = pick(lbIndices, o.ipModeProxyShare);
  const pendingSet = pick(lbIndices, o.pendingIngressShare);
  const nodePorts = new NodePortAllocator(rng, lbIndices.length * 2 + localSet.size);

  let backingLeft = budget;
  const drafts: ServiceDraft[] = [];
  for (let i = 0; i < appServiceCount; i++) {
    const kind = kindOf.get(i)!;
    const namespace = rng.pick(o.namespaces);
    const suffixes = kind === 'cluster' ? SVC_SUFFIXES : LB_SUFFIXES;
    const name = names.take(namespace, `${rng.pick(NAME_WORDS)}-${rng.pick(suffixes)}`);
    const statefulSet = kind === 'cluster' && rng.chance(0.12);
    const headless = statefulSet && rng.chance(0.4);
    const restMin = (appServiceCount - i - 1) * o.endpointsPerService.min;
    const replicas = Math.min(rng.int(o.endpointsPerService.min, o.endpointsPerService.max), backingLeft - restMin);
    backingLeft -= replicas;
    const ports = servicePorts(rng, kind, statefulSet).map((p) =>
      kind === 'cluster' ? p : { name: p.name, nodePort: nodePorts.next(), port: p.port, protocol: p.protocol, targetPort: p.targetPort },
    );
    const local = localSet.has(i);
    const draft: ServiceDraft = {
      namespace,
      name,
      kind,
      clusterIP: headless ? 'None' : clusterIP(),
      headless,
      local,
      directToPod: directSet.has(i),
      preventLoopback: preventSet.has(i),
      ipModeProxy: proxyModeSet.has(i),
      pendingIngress: pendingSet.has(i),
      ports,
      replicas,
      workloadKind: statefulSet ? 'StatefulSet' : 'Deployment',
      created: clusterCreated + Math.floor(rng.next() * (now - clusterCreated - DAY)),
      backing: [],
    };
    if (local && kind !== 'cluster') draft.healthCheckNodePort = nodePorts.next();
    if (kind === 'internal' && !draft.pendingIngress) draft.lbIp = internalIp();
    if (kind === 'public' && !draft.pendingIngress) draft.lbIp = publicIp();
    drafts.push(draft);
  }

  /** Where clients find their upstreams: mostly cluster DNS, sometimes an internal LB's IP (the anti-pattern this tool exists for). */
  const upstreamsFor = (namespace: string): Array<{ name: string; url: string }> => {
    if (drafts.length === 0) return [];
    const out: Array<{ name: string; url: string }> = [];
    const n = rng.weighted([
      [0, 4],
      [1, 5],
      [2, 1],
    ] as const);
    for (let k = 0; k < n; k++) {
      const d = rng.pick(drafts);
      const port = d.ports[0]!;
      const viaLb = d.kind === 'internal' && d.lbIp !== undefined && rng.chance(0.4);
      const host = viaLb ? d.lbIp! : d.namespace === namespace ? d.name : `${d.name}.${d.namespace}.svc.cluster.local`;
      out.push({ name: d.name, url: `${port.name === 'grpc' ? 'grpc' : 'http'}://${host}:${port.port}` });
    }
    return out;
  };

  // ------------------------------------------------------------ application workloads
  const appPods: GeneratedPod[] = [];
  const registry = profile.registry;
  const image = (ns: string, name: string): string =>
    `${registry}/${ns}/${name}:${rng.chance(0.7) ? `${rng.int(1, 3)}.${rng.int(0, 40)}.${rng.int(0, 12)}` : `sha-${rng.hex(7)}`}`;
  const podAnnotations = (): Record<string, string> | undefined => {
    const a: Record<string, string> = {};
    if (rng.chance(0.5)) {
      a['prometheus.io/path'] = '/metrics';
      a['prometheus.io/port'] = '9102';
      a['prometheus.io/scrape'] = 'true';
    }
    if (rng.chance(0.2))
      a['kubectl.kubernetes.io/restartedAt'] = new Date(now - rng.int(1, 90) * DAY).toISOString().slice(0, 19) + '+08:00';
    return Object.keys(a).length > 0 ? a : undefined;
  };

  /** A Deployment or StatefulSet with `replicas` pods; states per pod from `stateOf`. */
  const buildWorkload = (
    plan: WorkloadPlan,
    replicas: number,
    stateOf: (slot: NodeSlot | undefined, i: number) => 'ready' | 'crashloop' | 'pending' | 'running',
    spread?: 'distinct-nodes',
  ): GeneratedPod[] => {
    const rt = f.template(plan);
    const pods: GeneratedPod[] = [];
    const used = new Set<NodeSlot>();
    for (let i = 0; i < replicas; i++) {
      const first = stateOf(undefined, i);
      if (first === 'pending') {
        pods.push(
          f.pod(rt, {
            name: plan.kind === 'StatefulSet' ? `${plan.name}-${i}` : undefined,
            state: 'pending',
            created: podCreated(undefined, plan.created),
          }),
        );
        continue;
      }
      let slot = randomSlot();
      if (spread === 'distinct-nodes') {
        for (let t = 0; t < 20 && used.has(slot); t++) slot = randomSlot();
        used.add(slot);
      }
      const state = slot.ready ? stateOf(slot, i) : 'running';
      pods.push(
        f.pod(rt, {
          ...place(slot, plan.hostNetwork === true),
          name: plan.kind === 'StatefulSet' ? `${plan.name}-${i}` : undefined,
          state,
          restarts: rng.chance(0.1) ? rng.int(1, 4) : 0,
          created: podCreated(slot, plan.created),
        }),
      );
    }
    if (plan.kind === 'Deployment') {
      const deploymentUid = rng.uuid();
      items.replicaSets.push(f.replicaSet(rt, replicas, pods.filter(isReady).length, deploymentUid, rng.chance(0.3) ? 2 : 1));
      if (rng.chance(0.3)) items.replicaSets.push(f.oldReplicaSet(rt, deploymentUid));
    }
    return pods;
  };

  for (const d of drafts) {
    const input = {
      namespace: d.namespace,
      name: d.name,
      kind: d.workloadKind,
      image: image(d.namespace, d.name),
      ports: containerPorts(d.ports),
      env: appEnv(rng, d.name, upstreamsFor(d.namespace)),
      resources: rng.pick(RESOURCE_PROFILES),
      ...podShape(rng),
      created: d.created,
      serviceAccountName: rng.chance(0.3) ? d.name : undefined,
      team: d.namespace,
      podAnnotations: podAnnotations(),
      dataVolume: d.workloadKind === 'StatefulSet',
    };
    d.backing = buildWorkload(appPlan(input), d.replicas, () => (rng.chance(o.notReadyPodShare) ? 'crashloop' : 'ready'));
    appPods.push(...d.backing);
  }

  // Client workloads from what is left of the budget.
  let left = budget - appPods.length;
  const take = (n: number): number => {
    const k = Math.max(0, Math.min(n, left));
    left -= k;
    return k;
  };
  const pending = take(left >= 20 ? Math.max(1, Math.round(o.pods * o.pendingPodShare)) : 0);
  const hostNet = take(left >= 40 ? Math.min(o.nodes, Math.max(1, Math.round(left * 0.003))) : 0);
  const bare = take(left >= 30 ? Math.max(1, Math.round(left * 0.002)) : 0);
  const logAgent = left >= o.nodes * 3 ? take(o.nodes) : 0;
  const cronPods = take(left >= 50 ? Math.max(1, Math.round(left * 0.01)) : 0);
  const statefulPods = take(Math.round(left * 0.08));
  const deploymentPods = take(left);

  const clientInput = (
    kind: 'Deployment' | 'StatefulSet' | 'Job' | 'Pod' | 'DaemonSet',
    suffixes: readonly string[],
    namespace = rng.pick(o.namespaces),
  ) => {
    const name = names.take(namespace, `${rng.pick(NAME_WORDS)}-${rng.pick(suffixes)}`);
    return {
      namespace,
      name,
      kind,
      image: image(namespace, name),
      ports: rng.chance(0.6) ? [{ name: 'http', containerPort: 8080 }] : [{ name: 'metrics', containerPort: 9102 }],
      env: appEnv(rng, name, upstreamsFor(namespace)),
      resources: rng.pick(RESOURCE_PROFILES),
      ...podShape(rng),
      created: clusterCreated + Math.floor(rng.next() * (now - clusterCreated - DAY)),
      serviceAccountName: rng.chance(0.2) ? name : undefined,
      team: namespace,
      podAnnotations: podAnnotations(),
    };
  };

  for (let n = deploymentPods; n > 0;) {
    const replicas = Math.min(n, rng.pick(REPLICA_CHOICES));
    appPods.push(...buildWorkload(appPlan(clientInput('Deployment', CLIENT_SUFFIXES)), replicas, () => 'ready'));
    n -= replicas;
  }
  for (let n = statefulPods; n > 0;) {
    const replicas = Math.min(n, rng.int(1, 5));
    appPods.push(
      ...buildWorkload(
        appPlan({ ...clientInput('StatefulSet', ['db', 'cache', 'queue', 'zookeeper', 'store']), dataVolume: true }),
        replicas,
        () => 'ready',
      ),
    );
    n -= replicas;
  }
  for (let n = pending; n > 0;) {
    const replicas = Math.min(n, rng.int(1, 3));
    const input = clientInput('Deployment', ['trainer', 'batch', 'renderer']);
    appPods.push(
      ...buildWorkload(
        appPlan({ ...input, resources: { limits: { cpu: '64', memory: '256Gi' }, requests: { cpu: '64', memory: '256Gi' } } }),
        replicas,
        () => 'pending',
      ),
    );
    n -= replicas;
  }
  if (hostNet > 0) {
    const input = {
      ...clientInput('Deployment', ['edge'], 'ingress-nginx'),
      name: names.take('ingress-nginx', 'ingress-nginx-controller'),
      image: 'registry.k8s.io/ingress-nginx/controller:v1.11.3',
      ports: [
        { name: 'http', containerPort: 80, hostPort: 80 },
        { name: 'https', containerPort: 443, hostPort: 443 },
      ],
      hostNetwork: true,
      sidecar: false,
      serviceAccountName: 'ingress-nginx',
    };
    appPods.push(...buildWorkload(appPlan(input), hostNet, () => 'ready', 'distinct-nodes'));
  }
  if (logAgent > 0) {
    const input = {
      ...clientInput('DaemonSet', ['agent'], 'logging'),
      name: names.take('logging', 'fluent-bit'),
      image: 'cr.fluentbit.io/fluent/fluent-bit:2.2.2',
      ports: [{ name: 'http', containerPort: 2020 }],
    };
    const plan = appPlan({ ...input, sidecar: false, resources: RESOURCE_PROFILES[0] });
    plan.tolerations = [{ operator: 'Exists' }];
    const rt = f.template(plan);
    for (const slot of slots) {
      appPods.push(f.pod(rt, { ...place(slot, false), state: slot.ready ? 'ready' : 'running', created: podCreated(slot, plan.created) }));
    }
    items.daemonSets.push(f.daemonSet(rt, slots.length, slots.filter((s) => s.ready).length));
  }
  for (let n = bare; n > 0; n--) {
    const input = clientInput('Pod', ['debug', 'shell', 'test']);
    const slot = randomSlot();
    const rt = f.template(
      appPlan({ ...input, image: 'nicolaka/netshoot:v0.13', ports: [], resources: undefined, sidecar: false, restartPolicy: 'Always' }),
    );
    appPods.push(
      f.pod(rt, {
        ...place(slot, false),
        name: input.name,
        state: slot.ready ? 'ready' : 'running',
        created: podCreated(slot, now - rng.int(1, 72) * 60 * MINUTE),
      }),
    );
  }
  for (let n = cronPods; n > 0;) {
    const namespace = rng.pick(o.namespaces);
    const cronName = names.take(namespace, `${rng.pick(NAME_WORDS)}-${rng.pick(CRON_SUFFIXES)}`);
    const cronUid = rng.uuid();
    const jobs = Math.min(n, rng.int(1, 3));
    const period = rng.pick([15, 60, 360, 1440]) * MINUTE;
    const lastRun = Math.floor((now - rng.int(1, 3) * MINUTE) / period) * period;
    for (let j = 0; j < jobs; j++) {
      const scheduled = lastRun - (jobs - 1 - j) * period;
      const jobName = `${cronName}-${Math.floor(scheduled / MINUTE)}`;
      const running = j === jobs - 1 && rng.chance(0.3);
      const input = {
        ...clientInput('Job', ['job'], namespace),
        name: jobName,
        containerName: cronName.length <= 20 ? cronName : 'job',
        ports: [],
        sidecar: false,
        configVolume: false,
        restartPolicy: 'OnFailure',
        created: scheduled,
        parent: { apiVersion: minor >= 21 ? 'batch/v1' : 'batch/v1beta1', kind: 'CronJob', name: cronName, uid: cronUid },
      };
      const plan = appPlan(input);
      plan.selector = {};
      plan.labels = { ...plan.labels, app: cronName };
      const rt = f.template(plan);
      const slot = randomSlot();
      const created = Math.min(scheduled + rng.int(0, 3) * 1000, now - MINUTE);
      const pod = f.pod(rt, { ...place(slot, false), state: running ? (slot.ready ? 'ready' : 'running') : 'succeeded', created });
      appPods.push(pod);
      const finished = pod.status.containerStatuses?.[0]?.state.terminated?.finishedAt;
      items.jobs.push(f.job(rt, running ? 'running' : 'succeeded', created, finished ? Date.parse(finished) + 1000 : undefined));
    }
    n -= jobs;
  }

  // ------------------------------------------------------------ Services and EndpointSlices
  const zoneOf = new Map(slots.map((s) => [s.name, s.zone] as const));
  const targets = (pods: GeneratedPod[]) =>
    pods.map((pod) => ({ pod, zone: pod.spec.nodeName ? zoneOf.get(pod.spec.nodeName) : undefined }));
  const kubernetes = f.service({
    namespace: 'default',
    name: 'kubernetes',
    type: 'ClusterIP',
    clusterIP: intToIp(serviceBase + 1),
    ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 0 }],
    labels: { component: 'apiserver', provider: 'kubernetes' },
    created: clusterCreated,
  });
  const apiserver = profile.apiserver(rng);
  kubernetes.spec.ports[0]!.targetPort = apiserver.port;
  items.services.push(kubernetes);
  items.endpointSlices.push(f.apiserverSlice(kubernetes, apiserver.ips, apiserver.port, clusterCreated));
  const dnsService = f.service(dnsServicePlan(intToIp(serviceBase + 10), systemCreated));
  items.services.push(dnsService);
  items.endpointSlices.push(...f.endpointSlices(dnsService, targets(dnsPods), systemCreated));

  for (const d of drafts) {
    const annotations: Record<string, string> = { ...profile.serviceAnnotations };
    if (d.kind === 'internal') Object.assign(annotations, profile.internalLbAnnotations(rng, d.directToPod));
    if (d.kind === 'public') Object.assign(annotations, profile.publicLbAnnotations(rng));
    if (d.preventLoopback) annotations[ANNOTATIONS.tkePreventLoopback] = 'true';
    if (d.kind !== 'cluster' && !d.pendingIngress) Object.assign(annotations, profile.provisionedAnnotations(rng));
    let ingress: GeneratedLoadBalancerIngress[] | undefined;
    if (d.kind !== 'cluster' && d.lbIp !== undefined) {
      const entry = profile.ingress(rng, {
        namespace: d.namespace,
        name: d.name,
        ip: d.lbIp,
        internal: d.kind === 'internal',
        includeIp: o.awsIngressIp,
        annotations,
      });
      if (entry.ip !== undefined && (d.ipModeProxy || minor >= 30)) entry.ipMode = d.ipModeProxy ? 'Proxy' : 'VIP';
      ingress = [entry];
    }
    const service = f.service({
      namespace: d.namespace,
      name: d.name,
      type: d.kind === 'cluster' ? 'ClusterIP' : 'LoadBalancer',
      clusterIP: d.clusterIP,
      selector: { app: d.name },
      ports: d.ports,
      externalTrafficPolicy: d.kind === 'cluster' ? undefined : d.local ? 'Local' : 'Cluster',
      healthCheckNodePort: d.healthCheckNodePort,
      labels: { app: d.name, 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { ...annotations, 'meta.helm.sh/release-name': d.name, 'meta.helm.sh/release-namespace': d.namespace },
      ingress,
      loadBalancerClass: d.kind !== 'cluster' ? profile.loadBalancerClass?.(annotations) : undefined,
      created: d.created,
    });
    items.services.push(service);
    items.endpointSlices.push(...f.endpointSlices(service, targets(d.backing), d.created));
  }

  items.pods = [...systemPods, ...appPods];
  sortByNamespaceName(items.pods);
  sortByNamespaceName(items.services);
  sortByNamespaceName(items.endpointSlices);
  sortByNamespaceName(items.replicaSets);
  sortByNamespaceName(items.jobs);
  sortByNamespaceName(items.daemonSets);
  sortByNamespaceName(items.configMaps);
  items.nodes.sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));

  const cluster: GeneratedCluster = {
    options: o,
    items,
    toList: () => toKubeList(cluster),
  };
  return cluster;
}

/**
 * Which optional parts a team's pod spec has. A log-shipping sidecar comes with a leaner main
 * container (no config volume, readiness probe only), which keeps every pod below ~5 KB of JSON.
 */
function podShape(rng: SeededRandom): { sidecar: boolean; configVolume: boolean; liveness: boolean } {
  if (rng.chance(0.12)) return { sidecar: true, configVolume: false, liveness: false };
  return { sidecar: false, configVolume: rng.chance(0.6), liveness: rng.chance(0.5) };
}

function isReady(pod: GeneratedPod): boolean {
  return pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Older TKE builds first: `v1.20.6-tke.3` < `v1.20.6-tke.12`. */
function compareBuild(a: string, b: string): number {
  const pa = a.match(/\d+/g)?.map(Number) ?? [];
  const pb = b.match(/\d+/g)?.map(Number) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** kubectl's order: by namespace, then name. */
function sortByNamespaceName<T extends { metadata: { namespace?: string; name: string } }>(list: T[]): void {
  const keyed = list.map((o) => ({ key: `${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`, o }));
  keyed.sort((a, b) => compareStrings(a.key, b.key));
  for (let i = 0; i < keyed.length; i++) list[i] = keyed[i]!.o;
}

/** Unique workload/Service names per namespace. */
class NameBook {
  private readonly used = new Map<string, Set<string>>();

  take(namespace: string, base: string): string {
    let set = this.used.get(namespace);
    if (!set) {
      set = new Set();
      this.used.set(namespace, set);
    }
    let name = base;
    for (let n = 2; set.has(name); n++) name = `${base}-${n}`;
    set.add(name);
    return name;
  }
}

/** NodePorts, unique, in 30000-32767 (grown as if `--service-node-port-range` were widened when that is too small). */
class NodePortAllocator {
  private readonly used = new Set<number>();
  private readonly size: number;

  constructor(
    private readonly rng: SeededRandom,
    needed: number,
  ) {
    this.size = Math.max(2768, Math.ceil(needed * 1.5));
  }

  next(): number {
    for (;;) {
      const port = 30000 + this.rng.int(0, this.size - 1);
      if (!this.used.has(port)) {
        this.used.add(port);
        return port;
      }
    }
  }
}

function servicePorts(rng: SeededRandom, kind: ServiceKind, statefulSet: boolean): GeneratedServicePort[] {
  if (statefulSet) {
    const port = rng.pick([5432, 6379, 9092, 2181, 27017]);
    return [{ name: 'tcp', port, protocol: 'TCP', targetPort: port }];
  }
  const style = rng.weighted([
    ['http', 6],
    ['grpc', 2],
    ['both', 2],
    ['https', kind === 'public' ? 4 : 1],
  ] as const);
  switch (style) {
    case 'http':
      return [{ name: 'http', port: kind === 'cluster' ? 80 : rng.pick([80, 8080]), protocol: 'TCP', targetPort: 8080 }];
    case 'grpc':
      return [{ name: 'grpc', port: 9090, protocol: 'TCP', targetPort: 9090 }];
    case 'both':
      return [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'grpc', port: 9090, protocol: 'TCP', targetPort: 9090 },
      ];
    case 'https':
      return [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }];
  }
}

function containerPorts(ports: GeneratedServicePort[]): Array<{ name: string; containerPort: number }> {
  return ports.map((p) => ({ name: p.name ?? 'tcp', containerPort: typeof p.targetPort === 'number' ? p.targetPort : p.port }));
}

function systemConfigMaps(
  f: ObjectFactory,
  profile: ProviderProfile,
  o: ResolvedGenerateClusterOptions,
  clusterCidr: string,
  vpcCidr: string,
  cilium: boolean,
  created: number,
) {
  const out = [];
  if (profile.dns.name === 'coredns') {
    out.push(f.configMap('kube-system', 'coredns', { Corefile: COREFILE }, created, { 'addonmanager.kubernetes.io/mode': 'EnsureExists' }));
  } else {
    out.push(
      f.configMap('kube-system', 'kube-dns', { stubDomains: '{"acme.internal": ["10.128.0.2"]}' }, created, {
        'addonmanager.kubernetes.io/mode': 'EnsureExists',
      }),
    );
  }
  if (profile.provider === 'tke' && !cilium) {
    out.push(
      f.configMap(
        'kube-system',
        'ip-masq-agent-config',
        { config: JSON.stringify({ NonMasqueradeCIDRs: [clusterCidr, vpcCidr], MasqLinkLocal: true, ResyncInterval: '1m0s' }) },
        created,
      ),
    );
  }
  if (cilium) {
    out.push(
      f.configMap(
        'kube-system',
        'cilium-config',
        sortRecord({
          'bpf-lb-sock': 'true',
          'cluster-name': o.clusterName,
          'cluster-pool-ipv4-cidr': clusterCidr,
          'enable-health-check-nodeport': 'true',
          'enable-ipv4': 'true',
          'enable-ipv4-masquerade': 'true',
          ipam: 'kubernetes',
          'ipv4-native-routing-cidr': clusterCidr,
          'kube-proxy-replacement': 'true',
          'routing-mode': 'native',
        }),
        created,
        { 'app.kubernetes.io/managed-by': 'Helm' },
      ),
    );
  }
  return out;
}
