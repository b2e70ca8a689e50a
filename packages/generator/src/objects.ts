/**
 * Builds Kubernetes objects as `kubectl get -o json` prints them, from explicit plans. The random
 * choices (which node, how many replicas) are made by the caller (generator.ts, demo.ts); this
 * module only fills in what the API server and the controllers would write (uids, resourceVersions,
 * timestamps, statuses, owner references, injected service-account volumes).
 *
 * Pods of one workload share their container, volume and label objects (frozen), as the pods of a
 * real ReplicaSet share its template: this keeps 150,000 pods within a modest heap.
 */
import { KUBE_NAME_ALPHABET, SeededRandom } from './random';
import { EXCLUDE_FROM_LB_LABEL, ProviderProfile, templateHash } from './providers';
import type {
  GeneratedCondition,
  GeneratedConfigMap,
  GeneratedContainer,
  GeneratedContainerStatus,
  GeneratedDaemonSet,
  GeneratedEndpoint,
  GeneratedEndpointSlice,
  GeneratedEnvVar,
  GeneratedJob,
  GeneratedLoadBalancerIngress,
  GeneratedNode,
  GeneratedObjectMeta,
  GeneratedOwnerReference,
  GeneratedPod,
  GeneratedPodSpec,
  GeneratedPodTemplate,
  GeneratedReplicaSet,
  GeneratedService,
  GeneratedServicePort,
  GeneratedTaint,
  GeneratedToleration,
  GeneratedVolume,
  GeneratedVolumeMount,
} from './types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Kubernetes timestamps: RFC 3339, seconds precision, UTC. */
export function timestamp(ms: number): string {
  // Hot path (millions of calls for a big cluster): the date part is cached per day.
  const s = Math.floor(ms / 1000);
  const day = Math.floor(s / 86400);
  let prefix = DAY_PREFIX.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    DAY_PREFIX.set(day, prefix);
  }
  const r = s - day * 86400;
  return `${prefix}${TWO_DIGITS[Math.floor(r / 3600)]}:${TWO_DIGITS[Math.floor((r % 3600) / 60)]}:${TWO_DIGITS[r % 60]}Z`;
}

const DAY_PREFIX = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export interface ClusterFacts {
  profile: ProviderProfile;
  /** Minor version of the control plane (decides API versions and injected volumes). */
  minor: number;
  /** "Now" of the snapshot, ms since the epoch (fixed: generation must not read the clock). */
  now: number;
  clusterName: string;
  clusterCidr: string;
  /** Number of nodes (for scheduler messages). */
  nodeCount: number;
}

export interface NodePlan {
  name: string;
  ip: string;
  zone: string;
  providerID: string;
  labels: Record<string, string>;
  podCIDR?: string;
  version: string;
  created: number;
  ready: boolean;
  excludedFromLoadBalancers?: boolean;
  taints?: GeneratedTaint[];
  /** Allocatable pods (default: the provider's). */
  maxPods?: number;
}

export interface ContainerPlan {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string; hostPort?: number }>;
  env?: GeneratedEnvVar[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  /** HTTP readiness probe (and liveness probe unless `liveness` is false) on this path and port. */
  httpProbe?: { path: string; port: number; liveness?: boolean };
  volumeMounts?: GeneratedVolumeMount[];
  securityContext?: Record<string, unknown>;
  imagePullPolicy?: string;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'Pod' | 'Static';

export interface WorkloadPlan {
  namespace: string;
  /** Deployment / StatefulSet / DaemonSet / Job name (or the pod's name for a bare pod). */
  name: string;
  kind: WorkloadKind;
  /** Selector labels (also on the pods). */
  selector: Record<string, string>;
  /** More labels on the pods (and the template). */
  labels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  containers: ContainerPlan[];
  volumes?: GeneratedVolume[];
  hostNetwork?: boolean;
  serviceAccountName?: string;
  priorityClassName?: string;
  tolerations?: GeneratedToleration[];
  nodeSelector?: Record<string, string>;
  dnsPolicy?: string;
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  /** When the workload (and its first pods) were created, ms since the epoch. */
  created: number;
  /** The controller object above the pods' owner: the Deployment of a ReplicaSet, the CronJob of a Job. */
  parent?: { apiVersion: string; kind: string; name: string; uid?: string };
  /** StatefulSet/Deployment uid when the caller needs it stable (otherwise random). */
  ownerUid?: string;
  /** false: no service-account token is mounted (`automountServiceAccountToken: false`). */
  automountServiceAccountToken?: boolean;
}

/** What a workload's pods have in common, computed once. */
export interface PodTemplateRuntime {
  plan: WorkloadPlan;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: GeneratedOwnerReference[];
  /** Pod names: `<namePrefix><5 random>` unless the placement names the pod. */
  namePrefix: string;
  /** The template spec as the controller object holds it (no service-account volume, no nodeName). */
  templateSpec: GeneratedPodSpec;
  /** The pod spec with the service-account token already injected (shared-secret style), or undefined when each pod gets its own projected volume. */
  sharedPodSpec?: GeneratedPodSpec;
  imageIDs: string[];
  qosClass: string;
  ownerUid: string;
  ownerName: string;
  ownerKind: string;
  hash?: string;
}

export type PodState = 'ready' | 'crashloop' | 'pending' | 'succeeded' | 'running';

export interface PodPlacement {
  /** Explicit name (StatefulSet ordinals, static pods, bare pods); default `<prefix><5 random>`. */
  name?: string;
  node?: { name: string; ip: string };
  /** Pod IP; ignored for hostNetwork pods (they get the node IP) and pending pods. */
  podIP?: string;
  state: PodState;
  created: number;
  restarts?: number;
}

export interface ServicePlan {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP: string;
  selector?: Record<string, string>;
  ports: GeneratedServicePort[];
  externalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ingress?: GeneratedLoadBalancerIngress[];
  loadBalancerClass?: string;
  created: number;
}

export interface EndpointTarget {
  pod: GeneratedPod;
  zone?: string;
}

const DEFAULT_TOLERATIONS: GeneratedToleration[] = deepFreeze([
  { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
  { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
]);

/** What the DaemonSet controller adds to its pods' tolerations. */
function daemonSetTolerations(own: GeneratedToleration[] | undefined, hostNetwork: boolean): GeneratedToleration[] {
  const t: GeneratedToleration[] = [...(own ?? [])];
  const add = (key: string, effect: string): void => {
    if (!t.some((x) => x.key === key || (x.operator === 'Exists' && x.key === undefined))) t.push({ effect, key, operator: 'Exists' });
  };
  add('node.kubernetes.io/not-ready', 'NoExecute');
  add('node.kubernetes.io/unreachable', 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (hostNetwork) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return t;
}

const PROJECTED_TOKEN_SOURCES = deepFreeze([
  { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
  { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
  { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
]);

const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

export class ObjectFactory {
  private resourceVersion: number;
  private readonly imageIDs = new Map<string, string>();
  private readonly tokenSecrets = new Map<string, string>();
  private readonly podNames = new Set<string>();

  constructor(
    readonly rng: SeededRandom,
    readonly facts: ClusterFacts,
  ) {
    this.resourceVersion = 1_000_000 + rng.int(0, 8_000_000);
  }

  /** Each object's resourceVersion: increasing, with gaps, as etcd revisions are. */
  nextResourceVersion(): string {
    this.resourceVersion += 1 + (this.rng.uint32() % 37);
    return String(this.resourceVersion);
  }

  get projectedTokens(): boolean {
    return this.facts.minor >= 22;
  }

  imageID(image: string): string {
    let id = this.imageIDs.get(image);
    if (id === undefined) {
      const repo = image.split('@')[0]!.replace(/:[^/:]+$/, '');
      const digest = image.includes('@sha256:') ? image.slice(image.indexOf('@sha256:') + 8) : this.rng.hex(64);
      id = `${repo.includes('/') ? repo : `docker.io/library/${repo}`}@sha256:${digest}`;
      this.imageIDs.set(image, id);
    }
    return id;
  }

  meta(fields: {
    name: string;
    namespace?: string;
    created: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: GeneratedOwnerReference[];
    generateName?: string;
    generation?: number;
    uid?: string;
  }): GeneratedObjectMeta {
    const m: GeneratedObjectMeta = {} as GeneratedObjectMeta;
    if (fields.annotations && Object.keys(fields.annotations).length > 0) m.annotations = fields.annotations;
    m.creationTimestamp = timestamp(fields.created);
    if (fields.generateName !== undefined) m.generateName = fields.generateName;
    if (fields.generation !== undefined) m.generation = fields.generation;
    if (fields.labels && Object.keys(fields.labels).length > 0) m.labels = fields.labels;
    m.name = fields.name;
    if (fields.namespace !== undefined) m.namespace = fields.namespace;
    if (fields.ownerReferences) m.ownerReferences = fields.ownerReferences;
    m.resourceVersion = this.nextResourceVersion();
    m.uid = fields.uid ?? this.rng.uuid();
    return m;
  }

  // ---------------------------------------------------------------- nodes

  node(plan: NodePlan): GeneratedNode {
    const p = this.facts.profile;
    const labels = { ...plan.labels };
    if (plan.excludedFromLoadBalancers) labels[EXCLUDE_FROM_LB_LABEL] = 'true';
    const sortedLabels = sortRecord(labels);
    const heartbeat = timestamp(this.facts.now - this.rng.int(5, 50) * SECOND);
    const since = timestamp(plan.created + this.rng.int(20, 90) * SECOND);
    const pressure = (type: string, reason: string, message: string): GeneratedCondition => ({
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: since,
      message,
      reason,
      status: 'False',
      type,
    });
    const ready: GeneratedCondition = plan.ready
      ? {
          lastHeartbeatTime: heartbeat,
          lastTransitionTime: since,
          message: 'kubelet is posting ready status',
          reason: 'KubeletReady',
          status: 'True',
          type: 'Ready',
        }
      : {
          lastHeartbeatTime: timestamp(this.facts.now - this.rng.int(20, 180) * MINUTE),
          lastTransitionTime: timestamp(this.facts.now - this.rng.int(15, 170) * MINUTE),
          message: 'Kubelet stopped posting node status.',
          reason: 'NodeStatusUnknown',
          status: 'Unknown',
          type: 'Ready',
        };
    const taints: GeneratedTaint[] = [...(plan.taints ?? [])];
    if (!plan.ready) {
      taints.push({ effect: 'NoSchedule', key: 'node.kubernetes.io/unreachable', timeAdded: ready.lastTransitionTime });
      taints.push({ effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', timeAdded: ready.lastTransitionTime });
    }
    const spec: GeneratedNode['spec'] = {} as GeneratedNode['spec'];
    if (plan.podCIDR) {
      spec.podCIDR = plan.podCIDR;
      spec.podCIDRs = [plan.podCIDR];
    }
    spec.providerID = plan.providerID;
    if (taints.length > 0) spec.taints = taints;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: this.meta({
        name: plan.name,
        created: plan.created,
        labels: sortedLabels,
        annotations: nodeAnnotations(this.facts, plan),
      }),
      spec,
      status: {
        addresses: [
          { address: plan.ip, type: 'InternalIP' },
          { address: plan.name, type: 'Hostname' },
        ],
        allocatable: {
          cpu: `${p.cpu * 1000 - 100 - p.cpu * 10}m`,
          'ephemeral-storage': '47233297124',
          'hugepages-1Gi': '0',
          'hugepages-2Mi': '0',
          memory: `${p.memoryKi - 1_800_000}Ki`,
          pods: String(plan.maxPods ?? p.maxPods),
        },
        capacity: {
          cpu: String(p.cpu),
          'ephemeral-storage': '51474912Ki',
          'hugepages-1Gi': '0',
          'hugepages-2Mi': '0',
          memory: `${p.memoryKi}Ki`,
          pods: String(plan.maxPods ?? p.maxPods),
        },
        conditions: [
          pressure('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          pressure('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          pressure('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          ready,
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        images: this.nodeImages(plan.version),
        nodeInfo: {
          architecture: 'amd64',
          bootID: this.rng.uuid(),
          containerRuntimeVersion: p.containerRuntime,
          kernelVersion: p.kernelVersion,
          kubeProxyVersion: plan.version,
          kubeletVersion: plan.version,
          machineID: this.rng.hex(32),
          operatingSystem: 'linux',
          osImage: p.osImage,
          systemUUID: this.rng.uuid().toUpperCase(),
        },
      },
    };
  }

  private readonly nodeImageLists = new Map<string, ReadonlyArray<{ names: string[]; sizeBytes: number }>>();

  /** `status.images`: the system images every node pulled (one frozen list per version). */
  private nodeImages(version: string): ReadonlyArray<{ names: string[]; sizeBytes: number }> {
    let list = this.nodeImageLists.get(version);
    if (!list) {
      const p = this.facts.profile;
      const images = [p.kubeProxyImage(version), p.dns.image, ...p.cniDaemonSets.map((d) => d.image), pauseImage(p)];
      const rng = new SeededRandom(images.join('|').length * 7919 + version.length);
      list = deepFreeze(
        images.map((image) => {
          const repo = image.replace(/:[^/:]+$/, '');
          return { names: [`${repo}@sha256:${rng.hex(64)}`, image], sizeBytes: rng.int(300_000, 120_000_000) };
        }),
      );
      this.nodeImageLists.set(version, list);
    }
    return list;
  }

  // ---------------------------------------------------------------- pods and their controllers

  /** Prepares a workload: its owner, labels and the pod spec its pods share. */
  template(plan: WorkloadPlan): PodTemplateRuntime {
    const hash =
      plan.kind === 'Deployment' || plan.kind === 'StatefulSet' || plan.kind === 'DaemonSet' ? templateHash(this.rng) : undefined;
    const labels: Record<string, string> = { ...plan.selector, ...(plan.labels ?? {}) };
    let ownerKind = plan.kind as string;
    let ownerName = plan.name;
    let namePrefix = `${plan.name}-`;
    const ownerUid = plan.ownerUid ?? this.rng.uuid();
    switch (plan.kind) {
      case 'Deployment':
        labels['pod-template-hash'] = hash!;
        ownerKind = 'ReplicaSet';
        ownerName = `${plan.name}-${hash}`;
        namePrefix = `${ownerName}-`;
        break;
      case 'StatefulSet':
        labels['controller-revision-hash'] = `${plan.name}-${hash}`;
        break;
      case 'DaemonSet':
        labels['controller-revision-hash'] = hash!.slice(0, 9);
        labels['pod-template-generation'] = '1';
        break;
      case 'Job':
        labels['controller-uid'] = ownerUid;
        labels['job-name'] = plan.name;
        break;
      default:
        break;
    }
    const apiVersion = plan.kind === 'Job' ? 'batch/v1' : 'apps/v1';
    const ownerReferences =
      plan.kind === 'Pod' || plan.kind === 'Static'
        ? undefined
        : [{ apiVersion, blockOwnerDeletion: true, controller: true, kind: ownerKind, name: ownerName, uid: ownerUid }];
    const containers = plan.containers.map((c) => this.container(c));
    const templateSpec = this.podSpec(plan, containers, plan.volumes);
    let sharedPodSpec: GeneratedPodSpec | undefined;
    if (plan.kind === 'Static' || plan.automountServiceAccountToken === false) {
      // Static (mirror) pods and pods that opt out get no service-account token.
      sharedPodSpec = deepFreeze(templateSpec);
    } else if (!this.projectedTokens) {
      const sa = plan.serviceAccountName ?? 'default';
      const key = `${plan.namespace}/${sa}`;
      let secret = this.tokenSecrets.get(key);
      if (secret === undefined) {
        secret = `${sa}-token-${this.rng.chars(5, KUBE_NAME_ALPHABET)}`;
        this.tokenSecrets.set(key, secret);
      }
      sharedPodSpec = deepFreeze(this.withToken(plan, containers, secret, { defaultMode: 420, secretName: secret }, 'secret'));
    }
    const rt: PodTemplateRuntime = {
      plan,
      labels: deepFreeze(sortRecord(labels)),
      ownerReferences: deepFreeze(ownerReferences),
      namePrefix,
      templateSpec: deepFreeze(templateSpec),
      imageIDs: plan.containers.map((c) => this.imageID(c.image)),
      qosClass: qosClass(plan.containers),
      ownerUid,
      ownerName,
      ownerKind,
    };
    if (plan.podAnnotations) rt.annotations = deepFreeze(sortRecord(plan.podAnnotations));
    if (sharedPodSpec) rt.sharedPodSpec = sharedPodSpec;
    if (hash !== undefined) rt.hash = hash;
    return rt;
  }

  private container(c: ContainerPlan): GeneratedContainer {
    const out: GeneratedContainer = {} as GeneratedContainer;
    if (c.args) out.args = c.args;
    if (c.command) out.command = c.command;
    if (c.env && c.env.length > 0) out.env = c.env;
    out.image = c.image;
    out.imagePullPolicy = c.imagePullPolicy ?? 'IfNotPresent';
    if (c.httpProbe && c.httpProbe.liveness !== false) {
      out.livenessProbe = {
        failureThreshold: 3,
        httpGet: { path: c.httpProbe.path, port: c.httpProbe.port, scheme: 'HTTP' },
        initialDelaySeconds: 30,
        periodSeconds: 10,
        successThreshold: 1,
        timeoutSeconds: 1,
      };
    }
    out.name = c.name;
    if (c.ports && c.ports.length > 0) {
      out.ports = c.ports.map((p) => {
        const port = { containerPort: p.containerPort } as { containerPort: number; hostPort?: number; name?: string; protocol: string };
        if (p.hostPort !== undefined) port.hostPort = p.hostPort;
        if (p.name !== undefined) port.name = p.name;
        port.protocol = p.protocol ?? 'TCP';
        return port;
      });
    }
    if (c.httpProbe) {
      out.readinessProbe = {
        failureThreshold: 3,
        httpGet: { path: c.httpProbe.path, port: c.httpProbe.port, scheme: 'HTTP' },
        initialDelaySeconds: 5,
        periodSeconds: 5,
        successThreshold: 1,
        timeoutSeconds: 1,
      };
    }
    out.resources = c.resources ?? {};
    if (c.securityContext) out.securityContext = c.securityContext;
    out.terminationMessagePath = '/dev/termination-log';
    out.terminationMessagePolicy = 'File';
    if (c.volumeMounts && c.volumeMounts.length > 0) out.volumeMounts = c.volumeMounts;
    return out;
  }

  private podSpec(
    plan: WorkloadPlan,
    containers: GeneratedContainer[],
    volumes: GeneratedVolume[] | undefined,
    nodeName?: string,
    affinity?: Record<string, unknown>,
  ): GeneratedPodSpec {
    const s: GeneratedPodSpec = {} as GeneratedPodSpec;
    if (affinity) s.affinity = affinity;
    if (plan.automountServiceAccountToken === false) s.automountServiceAccountToken = false;
    s.containers = containers;
    s.dnsPolicy = plan.dnsPolicy ?? (plan.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst');
    s.enableServiceLinks = true;
    if (plan.hostNetwork) s.hostNetwork = true;
    if (nodeName !== undefined) s.nodeName = nodeName;
    if (plan.nodeSelector) s.nodeSelector = plan.nodeSelector;
    s.preemptionPolicy = 'PreemptLowerPriority';
    s.priority =
      plan.priorityClassName === 'system-node-critical'
        ? 2000001000
        : plan.priorityClassName === 'system-cluster-critical'
          ? 2000000000
          : 0;
    if (plan.priorityClassName) s.priorityClassName = plan.priorityClassName;
    s.restartPolicy = plan.restartPolicy ?? (plan.kind === 'Job' ? 'OnFailure' : 'Always');
    s.schedulerName = 'default-scheduler';
    s.securityContext = {};
    s.serviceAccount = plan.serviceAccountName ?? 'default';
    s.serviceAccountName = plan.serviceAccountName ?? 'default';
    s.terminationGracePeriodSeconds = plan.terminationGracePeriodSeconds ?? 30;
    s.tolerations =
      plan.kind === 'DaemonSet'
        ? daemonSetTolerations(plan.tolerations, plan.hostNetwork === true)
        : [...(plan.tolerations ?? []), ...DEFAULT_TOLERATIONS];
    if (volumes && volumes.length > 0) s.volumes = volumes;
    return s;
  }

  /** The pod spec after the ServiceAccount admission plugin added the token volume and mounts. */
  private withToken(
    plan: WorkloadPlan,
    containers: GeneratedContainer[],
    volumeName: string,
    source: Record<string, unknown>,
    kind: 'secret' | 'projected',
    nodeName?: string,
    affinity?: Record<string, unknown>,
  ): GeneratedPodSpec {
    const mount: GeneratedVolumeMount = { mountPath: TOKEN_MOUNT_PATH, name: volumeName, readOnly: true };
    const withMounts = containers.map((c) => ({ ...c, volumeMounts: [...(c.volumeMounts ?? []), mount] }));
    const volume: GeneratedVolume = kind === 'secret' ? { name: volumeName, secret: source } : { name: volumeName, projected: source };
    return this.podSpec(plan, withMounts, [...(plan.volumes ?? []), volume], nodeName, affinity);
  }

  /** One pod of a workload, placed on a node (or Pending). */
  pod(rt: PodTemplateRuntime, placement: PodPlacement): GeneratedPod {
    const plan = rt.plan;
    const name = placement.name ?? this.uniquePodName(plan.namespace, rt.namePrefix);
    this.podNames.add(`${plan.namespace}/${name}`);
    const node = placement.state === 'pending' ? undefined : placement.node;
    const affinity =
      plan.kind === 'DaemonSet' && node
        ? {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node.name] }] }],
              },
            },
          }
        : undefined;
    let spec: GeneratedPodSpec;
    if (rt.sharedPodSpec && !affinity) {
      spec = this.placeSpec(rt.sharedPodSpec, node?.name);
    } else if (rt.sharedPodSpec) {
      spec = this.placeSpec(rt.sharedPodSpec, node?.name, affinity);
    } else {
      const tokenName = `kube-api-access-${this.rng.chars(5, KUBE_NAME_ALPHABET)}`;
      spec = this.withToken(
        plan,
        rt.templateSpec.containers,
        tokenName,
        { defaultMode: 420, sources: PROJECTED_TOKEN_SOURCES },
        'projected',
        node?.name,
        affinity,
      );
    }
    const annotations: Record<string, string> = rt.annotations ? { ...rt.annotations } : {};
    if (plan.kind === 'Static') {
      const hash = this.rng.hex(32);
      annotations['kubernetes.io/config.hash'] = hash;
      annotations['kubernetes.io/config.mirror'] = hash;
      annotations['kubernetes.io/config.seen'] = new Date(placement.created).toISOString().replace('Z', '000000Z');
      annotations['kubernetes.io/config.source'] = 'file';
    }
    const ownerReferences =
      plan.kind === 'Static' && node
        ? [{ apiVersion: 'v1', controller: true, kind: 'Node', name: node.name, uid: this.nodeUid(node.name) }]
        : rt.ownerReferences;
    const metadata = this.meta({
      name,
      namespace: plan.namespace,
      created: placement.created,
      labels: rt.labels,
      annotations: Object.keys(annotations).length > 0 ? sortRecord(annotations) : undefined,
      ownerReferences,
      generateName: placement.name === undefined ? rt.namePrefix : undefined,
    });
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status: this.podStatus(rt, placement, node, name, metadata.uid) };
  }

  private readonly nodeUids = new Map<string, string>();

  /** Registers node uids so static pods can point at their Node. */
  registerNodeUid(name: string, uid: string): void {
    this.nodeUids.set(name, uid);
  }

  private nodeUid(name: string): string {
    return this.nodeUids.get(name) ?? this.rng.uuid();
  }

  private placeSpec(shared: GeneratedPodSpec, nodeName: string | undefined, affinity?: Record<string, unknown>): GeneratedPodSpec {
    // Rebuilt key by key (not spread) so nodeName sits where kubectl prints it.
    const s: GeneratedPodSpec = {} as GeneratedPodSpec;
    if (affinity) s.affinity = affinity;
    if (shared.automountServiceAccountToken === false) s.automountServiceAccountToken = false;
    s.containers = shared.containers;
    s.dnsPolicy = shared.dnsPolicy;
    if (shared.enableServiceLinks !== undefined) s.enableServiceLinks = shared.enableServiceLinks;
    if (shared.hostNetwork) s.hostNetwork = true;
    if (nodeName !== undefined) s.nodeName = nodeName;
    if (shared.nodeSelector) s.nodeSelector = shared.nodeSelector;
    if (shared.preemptionPolicy) s.preemptionPolicy = shared.preemptionPolicy;
    s.priority = shared.priority;
    if (shared.priorityClassName) s.priorityClassName = shared.priorityClassName;
    s.restartPolicy = shared.restartPolicy;
    s.schedulerName = shared.schedulerName;
    s.securityContext = shared.securityContext;
    s.serviceAccount = shared.serviceAccount;
    s.serviceAccountName = shared.serviceAccountName;
    s.terminationGracePeriodSeconds = shared.terminationGracePeriodSeconds;
    if (shared.tolerations) s.tolerations = shared.tolerations;
    if (shared.volumes) s.volumes = shared.volumes;
    return s;
  }

  private uniquePodName(namespace: string, prefix: string): string {
    for (;;) {
      const name = prefix + this.rng.chars(5, KUBE_NAME_ALPHABET);
      if (!this.podNames.has(`${namespace}/${name}`)) return name;
    }
  }

  private podStatus(
    rt: PodTemplateRuntime,
    placement: PodPlacement,
    node: { name: string; ip: string } | undefined,
    podName: string,
    podUid: string,
  ): GeneratedPod['status'] {
    const plan = rt.plan;
    const t0 = placement.created;
    const cond = (type: string, status: 'True' | 'False', at: number, reason?: string, message?: string): GeneratedCondition => {
      const c: GeneratedCondition = { lastProbeTime: null, lastTransitionTime: timestamp(at) } as GeneratedCondition;
      if (message !== undefined) c.message = message;
      if (reason !== undefined) c.reason = reason;
      c.status = status;
      c.type = type;
      return c;
    };
    if (placement.state === 'pending' || !node) {
      const n = this.facts.nodeCount;
      return {
        conditions: [
          cond(
            'PodScheduled',
            'False',
            t0,
            'Unschedulable',
            `0/${n} nodes are available: ${n} Insufficient cpu. preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`,
          ),
        ],
        phase: 'Pending',
        qosClass: rt.qosClass,
      };
    }
    const podIP = plan.hostNetwork ? node.ip : placement.podIP;
    const started = t0 + this.rng.int(1, 4) * SECOND;
    const readyAt = started + this.rng.int(3, 40) * SECOND;
    const statuses: GeneratedContainerStatus[] = [];
    let phase: GeneratedPod['status']['phase'] = 'Running';
    let conditions: GeneratedCondition[];
    const restarts = placement.restarts ?? 0;
    plan.containers.forEach((c, i) => {
      const containerID = `containerd://${this.rng.hex(64)}`;
      const image = c.image;
      const imageID = rt.imageIDs[i]!;
      const name = c.name;
      if (placement.state === 'succeeded') {
        const finished = readyAt + this.rng.int(20, 900) * SECOND;
        statuses.push({
          containerID,
          image,
          imageID,
          lastState: {},
          name,
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: { containerID, exitCode: 0, finishedAt: timestamp(finished), reason: 'Completed', startedAt: timestamp(started) },
          },
        });
      } else if (placement.state === 'crashloop' && i === 0) {
        const lastStart = this.facts.now - this.rng.int(2, 5) * MINUTE;
        statuses.push({
          containerID,
          image,
          imageID,
          lastState: {
            terminated: {
              containerID,
              exitCode: 1,
              finishedAt: timestamp(lastStart + this.rng.int(5, 40) * SECOND),
              reason: 'Error',
              startedAt: timestamp(lastStart),
            },
          },
          name,
          ready: false,
          restartCount: Math.max(restarts, 12),
          started: false,
          state: {
            waiting: {
              message: `back-off 5m0s restarting failed container=${c.name} pod=${podName}_${plan.namespace}(${podUid})`,
              reason: 'CrashLoopBackOff',
            },
          },
        });
      } else {
        statuses.push({
          containerID,
          image,
          imageID,
          lastState: {},
          name,
          ready: placement.state !== 'running',
          restartCount: restarts,
          started: true,
          state: { running: { startedAt: timestamp(started) } },
        });
      }
    });
    if (placement.state === 'succeeded') {
      phase = 'Succeeded';
      const done = Math.max(...statuses.map((s) => Date.parse(s.state.terminated?.finishedAt ?? '') || readyAt));
      conditions = [
        cond('Initialized', 'True', t0, 'PodCompleted'),
        cond('Ready', 'False', done, 'PodCompleted'),
        cond('ContainersReady', 'False', done, 'PodCompleted'),
        cond('PodScheduled', 'True', t0),
      ];
    } else if (placement.state === 'crashloop' || placement.state === 'running') {
      const names = plan.containers.filter((_, i) => placement.state === 'running' || i === 0).map((c) => c.name);
      const msg = `containers with unready status: [${names.join(' ')}]`;
      const since = this.facts.now - this.rng.int(10, 600) * MINUTE;
      conditions = [
        cond('Initialized', 'True', t0),
        cond('Ready', 'False', since, 'ContainersNotReady', msg),
        cond('ContainersReady', 'False', since, 'ContainersNotReady', msg),
        cond('PodScheduled', 'True', t0),
      ];
    } else {
      conditions = [
        cond('Initialized', 'True', t0),
        cond('Ready', 'True', readyAt),
        cond('ContainersReady', 'True', readyAt),
        cond('PodScheduled', 'True', t0),
      ];
    }
    const status: GeneratedPod['status'] = { conditions, containerStatuses: statuses } as GeneratedPod['status'];
    status.hostIP = node.ip;
    status.phase = phase;
    if (podIP) {
      status.podIP = podIP;
      status.podIPs = [{ ip: podIP }];
    }
    status.qosClass = rt.qosClass;
    status.startTime = timestamp(t0);
    return status;
  }

  /** The ReplicaSet behind a Deployment's pods. */
  replicaSet(rt: PodTemplateRuntime, replicas: number, readyReplicas: number, deploymentUid: string, revision = 1): GeneratedReplicaSet {
    const plan = rt.plan;
    const selector = { ...plan.selector, 'pod-template-hash': rt.hash ?? '' };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: this.meta({
        name: rt.ownerName,
        namespace: plan.namespace,
        created: plan.created,
        uid: rt.ownerUid,
        generation: 1,
        labels: rt.labels,
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(replicas),
          'deployment.kubernetes.io/max-replicas': String(replicas + Math.max(1, Math.ceil(replicas / 4))),
          'deployment.kubernetes.io/revision': String(revision),
        },
        ownerReferences: [
          { apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'Deployment', name: plan.name, uid: deploymentUid },
        ],
      }),
      spec: {
        replicas,
        selector: { matchLabels: sortRecord(selector) },
        template: this.podTemplate(rt),
      },
      status: replicaStatus(replicas, readyReplicas),
    };
  }

  /** An older ReplicaSet of the same Deployment, scaled to zero (revision history). */
  oldReplicaSet(rt: PodTemplateRuntime, deploymentUid: string): GeneratedReplicaSet {
    const hash = templateHash(this.rng);
    const labels = sortRecord({ ...rt.labels, 'pod-template-hash': hash });
    const plan = rt.plan;
    const created = plan.created - this.rng.int(2, 60) * 24 * 60 * MINUTE;
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: this.meta({
        name: `${plan.name}-${hash}`,
        namespace: plan.namespace,
        created,
        generation: 2,
        labels,
        annotations: {
          'deployment.kubernetes.io/desired-replicas': '0',
          'deployment.kubernetes.io/max-replicas': '1',
          'deployment.kubernetes.io/revision': '1',
        },
        ownerReferences: [
          { apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'Deployment', name: plan.name, uid: deploymentUid },
        ],
      }),
      spec: {
        replicas: 0,
        selector: { matchLabels: sortRecord({ ...plan.selector, 'pod-template-hash': hash }) },
        template: { metadata: { creationTimestamp: null, labels }, spec: rt.templateSpec },
      },
      status: { observedGeneration: 2, replicas: 0 },
    };
  }

  private podTemplate(rt: PodTemplateRuntime): GeneratedPodTemplate {
    const metadata: GeneratedPodTemplate['metadata'] = rt.annotations
      ? { annotations: rt.annotations, creationTimestamp: null, labels: rt.labels }
      : { creationTimestamp: null, labels: rt.labels };
    return { metadata, spec: rt.templateSpec };
  }

  job(rt: PodTemplateRuntime, state: 'succeeded' | 'running', started: number, finished?: number): GeneratedJob {
    const plan = rt.plan;
    const parent = plan.parent;
    const ownerReferences = parent
      ? [
          {
            apiVersion: parent.apiVersion,
            blockOwnerDeletion: true,
            controller: true,
            kind: parent.kind,
            name: parent.name,
            uid: parent.uid ?? this.rng.uuid(),
          },
        ]
      : undefined;
    const status: GeneratedJob['status'] =
      state === 'succeeded'
        ? {
            completionTime: timestamp(finished ?? started + 5 * MINUTE),
            conditions: [
              {
                lastProbeTime: timestamp(finished ?? started + 5 * MINUTE),
                lastTransitionTime: timestamp(finished ?? started + 5 * MINUTE),
                status: 'True',
                type: 'Complete',
              },
            ],
            startTime: timestamp(started),
            succeeded: 1,
          }
        : { active: 1, startTime: timestamp(started) };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: this.meta({
        name: plan.name,
        namespace: plan.namespace,
        created: started,
        uid: rt.ownerUid,
        labels: rt.labels,
        ownerReferences,
      }),
      spec: {
        backoffLimit: 6,
        completions: 1,
        parallelism: 1,
        selector: { matchLabels: { 'controller-uid': rt.ownerUid } },
        template: this.podTemplate(rt),
      },
      status,
    };
  }

  daemonSet(
    rt: PodTemplateRuntime,
    scheduled: number,
    ready: number,
    extraAnnotations?: Record<string, string>,
    updateStrategy?: GeneratedDaemonSet['spec']['updateStrategy'],
  ): GeneratedDaemonSet {
    const plan = rt.plan;
    const annotations: Record<string, string> = { 'deprecated.daemonset.template.generation': '1', ...(extraAnnotations ?? {}) };
    const status: GeneratedDaemonSet['status'] = {
      currentNumberScheduled: scheduled,
      desiredNumberScheduled: scheduled,
      numberAvailable: ready,
      numberMisscheduled: 0,
      numberReady: ready,
    } as GeneratedDaemonSet['status'];
    if (scheduled > ready) status.numberUnavailable = scheduled - ready;
    status.observedGeneration = 1;
    status.updatedNumberScheduled = scheduled;
    const templateLabels = { ...rt.labels };
    delete templateLabels['controller-revision-hash'];
    delete templateLabels['pod-template-generation'];
    return {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: this.meta({
        name: plan.name,
        namespace: plan.namespace,
        created: plan.created,
        uid: rt.ownerUid,
        generation: 1,
        labels: plan.selector,
        annotations: sortRecord(annotations),
      }),
      spec: {
        revisionHistoryLimit: 10,
        selector: { matchLabels: plan.selector },
        template: { metadata: { creationTimestamp: null, labels: sortRecord(templateLabels) }, spec: rt.templateSpec },
        updateStrategy: updateStrategy ?? { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' },
      },
      status,
    };
  }

  configMap(
    namespace: string,
    name: string,
    data: Record<string, string>,
    created: number,
    labels?: Record<string, string>,
  ): GeneratedConfigMap {
    return { apiVersion: 'v1', data, kind: 'ConfigMap', metadata: this.meta({ name, namespace, created, labels }) } as GeneratedConfigMap;
  }

  // ---------------------------------------------------------------- services

  service(plan: ServicePlan): GeneratedService {
    const spec: GeneratedService['spec'] = {} as GeneratedService['spec'];
    if (plan.type === 'LoadBalancer' && this.facts.minor >= 24) spec.allocateLoadBalancerNodePorts = true;
    spec.clusterIP = plan.clusterIP;
    spec.clusterIPs = [plan.clusterIP];
    if (plan.type !== 'ClusterIP') spec.externalTrafficPolicy = plan.externalTrafficPolicy ?? 'Cluster';
    if (plan.healthCheckNodePort !== undefined) spec.healthCheckNodePort = plan.healthCheckNodePort;
    if (this.facts.minor >= 22) spec.internalTrafficPolicy = 'Cluster';
    spec.ipFamilies = ['IPv4'];
    spec.ipFamilyPolicy = 'SingleStack';
    if (plan.loadBalancerClass) spec.loadBalancerClass = plan.loadBalancerClass;
    spec.ports = plan.ports;
    if (plan.selector) spec.selector = plan.selector;
    spec.sessionAffinity = 'None';
    spec.type = plan.type;
    const status: GeneratedService['status'] = { loadBalancer: plan.ingress && plan.ingress.length > 0 ? { ingress: plan.ingress } : {} };
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: this.meta({
        name: plan.name,
        namespace: plan.namespace,
        created: plan.created,
        labels: plan.labels,
        annotations: plan.annotations ? sortRecord(plan.annotations) : undefined,
      }),
      spec,
      status,
    };
  }

  /**
   * The EndpointSlices the controller writes for a Service: every pod with an IP that the selector
   * matches, `ready` from the pod's Ready condition, at most 100 endpoints a slice.
   */
  endpointSlices(service: GeneratedService, targets: EndpointTarget[], created: number): GeneratedEndpointSlice[] {
    const svcName = service.metadata.name;
    const ns = service.metadata.namespace ?? 'default';
    const ports = service.spec.ports.map((p) => ({
      name: p.name ?? '',
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
      protocol: p.protocol,
    }));
    const endpoints: GeneratedEndpoint[] = [];
    for (const t of targets) {
      const pod = t.pod;
      if (!pod.status.podIP || !pod.spec.nodeName || pod.status.phase !== 'Running') continue;
      const ready = pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      const e: GeneratedEndpoint = {
        addresses: [pod.status.podIP],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: pod.spec.nodeName,
        targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid },
      };
      if (t.zone !== undefined) e.zone = t.zone;
      endpoints.push(e);
    }
    const labels: Record<string, string> = {
      ...(service.metadata.labels ?? {}),
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      'kubernetes.io/service-name': svcName,
    };
    if (service.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const sortedLabels = sortRecord(labels);
    const chunks: GeneratedEndpoint[][] = [];
    for (let i = 0; i < endpoints.length; i += 100) chunks.push(endpoints.slice(i, i + 100));
    if (chunks.length === 0) chunks.push([]);
    const owner: GeneratedOwnerReference = {
      apiVersion: 'v1',
      blockOwnerDeletion: true,
      controller: true,
      kind: 'Service',
      name: svcName,
      uid: service.metadata.uid,
    };
    const prefix = svcName.length > 58 ? svcName.slice(0, 58) : `${svcName}-`;
    return chunks.map((chunk) => ({
      addressType: 'IPv4',
      apiVersion: 'discovery.k8s.io/v1',
      endpoints: chunk,
      kind: 'EndpointSlice',
      metadata: this.meta({
        name: prefix + this.rng.chars(5, KUBE_NAME_ALPHABET),
        namespace: ns,
        created,
        generation: 1 + (this.rng.uint32() % 6),
        generateName: prefix,
        labels: sortedLabels,
        annotations: {
          'endpoints.kubernetes.io/last-change-trigger-time': timestamp(Math.max(created, this.facts.now - this.rng.int(1, 600) * MINUTE)),
        },
        ownerReferences: [owner],
      }),
      ports,
    }));
  }

  /** The API server's own `kubernetes` slice (no pods behind it). */
  apiserverSlice(service: GeneratedService, ips: string[], port: number, created: number): GeneratedEndpointSlice {
    return {
      addressType: 'IPv4',
      apiVersion: 'discovery.k8s.io/v1',
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
      kind: 'EndpointSlice',
      metadata: this.meta({
        name: 'kubernetes',
        namespace: 'default',
        created,
        generation: 1,
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true', 'kubernetes.io/service-name': service.metadata.name },
      }),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    };
  }
}

function replicaStatus(replicas: number, ready: number): GeneratedReplicaSet['status'] {
  const s: GeneratedReplicaSet['status'] = {} as GeneratedReplicaSet['status'];
  if (ready > 0) s.availableReplicas = ready;
  s.fullyLabeledReplicas = replicas;
  s.observedGeneration = 1;
  if (ready > 0) s.readyReplicas = ready;
  s.replicas = replicas;
  return s;
}

function qosClass(containers: ContainerPlan[]): string {
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r = c.resources ?? {};
    if (r.requests || r.limits) any = true;
    const lim = r.limits ?? {};
    const req = r.requests ?? lim;
    if (!lim.cpu || !lim.memory || req.cpu !== lim.cpu || req.memory !== lim.memory) guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function nodeAnnotations(facts: ClusterFacts, plan: NodePlan): Record<string, string> {
  const a: Record<string, string> = {
    'node.alpha.kubernetes.io/ttl': '0',
    'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
  };
  if (facts.minor < 24) a['kubeadm.alpha.kubernetes.io/cri-socket'] = '/run/containerd/containerd.sock';
  if (facts.profile.provider === 'gcp') {
    a['container.googleapis.com/instance_id'] = String(
      1_000_000_000_000_000 + Math.floor(Date.parse(timestamp(plan.created)) % 1_000_000_007),
    );
    a['node.gke.io/last-applied-node-labels'] = 'cloud.google.com/gke-boot-disk=pd-balanced,cloud.google.com/gke-nodepool=default-pool';
  }
  if (facts.profile.provider === 'aws') a['alpha.kubernetes.io/provided-node-ip'] = plan.ip;
  if (facts.profile.provider === 'azure')
    a['csi.volume.kubernetes.io/nodeid'] = `{"disk.csi.azure.com":"${plan.name}","file.csi.azure.com":"${plan.name}"}`;
  return sortRecord(a);
}

function pauseImage(p: ProviderProfile): string {
  switch (p.provider) {
    case 'tke':
      return 'ccr.ccs.tencentyun.com/library/pause:latest';
    case 'aws':
      return '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5';
    case 'azure':
      return 'mcr.microsoft.com/oss/kubernetes/pause:3.6';
    case 'gcp':
      return 'gke.gcr.io/pause:3.8';
  }
}

export function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as T;
  return out;
}
