/**
 * Recipes for the workloads of a cluster: the system DaemonSets (kube-proxy, CNI agents, Cilium),
 * the cluster DNS, and application Deployments/StatefulSets/DaemonSets/Jobs, as WorkloadPlans for
 * ObjectFactory.
 */
import { CILIUM_IMAGE, CILIUM_OPERATOR_IMAGE, ProviderProfile, SystemDaemonSet } from './providers';
import type { SeededRandom } from './random';
import type { ContainerPlan, ServicePlan, WorkloadKind, WorkloadPlan } from './objects';
import { deepFreeze } from './objects';
import type { GeneratedEnvVar, GeneratedVolume, GeneratorProxyMode } from './types';

const fieldRef = (name: string, fieldPath: string): GeneratedEnvVar => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

const HOST_PATH = (name: string, path: string, type?: string): GeneratedVolume =>
  type ? { hostPath: { path, type }, name } : { hostPath: { path, type: '' }, name };

const SYSTEM_TOLERATIONS = deepFreeze([{ operator: 'Exists' }]);

export function kubeProxyPlan(
  profile: ProviderProfile,
  version: string,
  mode: GeneratorProxyMode,
  clusterCidr: string,
  created: number,
  ownerUid: string,
): WorkloadPlan {
  const container: ContainerPlan = {
    name: 'kube-proxy',
    image: profile.kubeProxyImage(version),
    command: ['kube-proxy'],
    args: profile.kubeProxyArgs(mode, clusterCidr),
    env: profile.kubeProxyStaticPod ? undefined : [fieldRef('NODE_NAME', 'spec.nodeName')],
    resources: { requests: { cpu: '100m' } },
    securityContext: { privileged: true },
    volumeMounts: [
      { mountPath: '/var/lib/kube-proxy', name: 'kube-proxy-config' },
      { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
      { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
    ],
  };
  const plan: WorkloadPlan = {
    namespace: 'kube-system',
    name: 'kube-proxy',
    kind: profile.kubeProxyStaticPod ? 'Static' : 'DaemonSet',
    selector: profile.kubeProxyStaticPod ? { component: 'kube-proxy' } : { 'k8s-app': 'kube-proxy' },
    labels: profile.kubeProxyStaticPod ? { tier: 'node' } : undefined,
    containers: [container],
    volumes: [
      HOST_PATH('kube-proxy-config', '/var/lib/kube-proxy'),
      HOST_PATH('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
      HOST_PATH('lib-modules', '/lib/modules'),
    ],
    hostNetwork: true,
    serviceAccountName: profile.kubeProxyStaticPod ? undefined : 'kube-proxy',
    priorityClassName: 'system-node-critical',
    tolerations: SYSTEM_TOLERATIONS,
    created,
    ownerUid,
  };
  return plan;
}

export function systemDaemonSetPlan(ds: SystemDaemonSet, created: number, ownerUid: string): WorkloadPlan {
  return {
    namespace: 'kube-system',
    name: ds.name,
    kind: 'DaemonSet',
    selector: { 'k8s-app': ds.app },
    containers: [
      {
        name: ds.name,
        image: ds.image,
        command: ds.command,
        args: ds.args,
        env: [fieldRef('NODE_NAME', 'spec.nodeName'), fieldRef('POD_NAMESPACE', 'metadata.namespace')],
        resources: { limits: { memory: '256Mi' }, requests: { cpu: '25m', memory: '64Mi' } },
        securityContext: { privileged: true },
        volumeMounts: [
          { mountPath: '/host/etc/cni/net.d', name: 'cni-conf' },
          { mountPath: '/host/opt/cni/bin', name: 'cni-bin' },
          { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
        ],
      },
    ],
    volumes: [
      HOST_PATH('cni-conf', '/etc/cni/net.d'),
      HOST_PATH('cni-bin', '/opt/cni/bin'),
      HOST_PATH('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
    ],
    hostNetwork: ds.hostNetwork,
    serviceAccountName: ds.name,
    priorityClassName: 'system-node-critical',
    tolerations: SYSTEM_TOLERATIONS,
    created,
    ownerUid,
  };
}

export function ciliumAgentPlan(created: number, ownerUid: string): WorkloadPlan {
  return {
    namespace: 'kube-system',
    name: 'cilium',
    kind: 'DaemonSet',
    selector: { 'k8s-app': 'cilium' },
    labels: { 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' },
    containers: [
      {
        name: 'cilium-agent',
        image: CILIUM_IMAGE,
        command: ['cilium-agent'],
        args: ['--config-dir=/tmp/cilium/config-map'],
        env: [fieldRef('K8S_NODE_NAME', 'spec.nodeName'), fieldRef('CILIUM_K8S_NAMESPACE', 'metadata.namespace')],
        httpProbe: { path: '/healthz', port: 9879 },
        resources: { requests: { cpu: '100m', memory: '512Mi' } },
        securityContext: {
          capabilities: {
            add: [
              'CHOWN',
              'KILL',
              'NET_ADMIN',
              'NET_RAW',
              'IPC_LOCK',
              'SYS_MODULE',
              'SYS_ADMIN',
              'SYS_RESOURCE',
              'DAC_OVERRIDE',
              'FOWNER',
              'SETGID',
              'SETUID',
            ],
            drop: ['ALL'],
          },
        },
        volumeMounts: [
          { mountPath: '/host/proc/sys/net', name: 'host-proc-sys-net' },
          { mountPath: '/sys/fs/bpf', name: 'bpf-maps' },
          { mountPath: '/var/run/cilium', name: 'cilium-run' },
          { mountPath: '/host/etc/cni/net.d', name: 'etc-cni-netd' },
          { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
          { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
          { mountPath: '/tmp/cilium/config-map', name: 'cilium-config-path', readOnly: true },
        ],
      },
    ],
    volumes: [
      HOST_PATH('host-proc-sys-net', '/proc/sys/net', 'Directory'),
      HOST_PATH('bpf-maps', '/sys/fs/bpf', 'DirectoryOrCreate'),
      HOST_PATH('cilium-run', '/var/run/cilium', 'DirectoryOrCreate'),
      HOST_PATH('etc-cni-netd', '/etc/cni/net.d', 'DirectoryOrCreate'),
      HOST_PATH('lib-modules', '/lib/modules'),
      HOST_PATH('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
      { configMap: { defaultMode: 420, name: 'cilium-config' }, name: 'cilium-config-path' },
    ],
    hostNetwork: true,
    serviceAccountName: 'cilium',
    priorityClassName: 'system-node-critical',
    tolerations: SYSTEM_TOLERATIONS,
    terminationGracePeriodSeconds: 1,
    created,
    ownerUid,
  };
}

export function ciliumOperatorPlan(created: number): WorkloadPlan {
  return {
    namespace: 'kube-system',
    name: 'cilium-operator',
    kind: 'Deployment',
    selector: { 'io.cilium/app': 'operator', name: 'cilium-operator' },
    labels: { 'app.kubernetes.io/name': 'cilium-operator', 'app.kubernetes.io/part-of': 'cilium' },
    containers: [
      {
        name: 'cilium-operator',
        image: CILIUM_OPERATOR_IMAGE,
        command: ['cilium-operator-generic'],
        args: ['--config-dir=/tmp/cilium/config-map', '--debug=$(CILIUM_DEBUG)'],
        env: [fieldRef('K8S_NODE_NAME', 'spec.nodeName'), fieldRef('CILIUM_K8S_NAMESPACE', 'metadata.namespace')],
        httpProbe: { path: '/healthz', port: 9234 },
        resources: {},
        volumeMounts: [{ mountPath: '/tmp/cilium/config-map', name: 'cilium-config-path', readOnly: true }],
      },
    ],
    volumes: [{ configMap: { defaultMode: 420, name: 'cilium-config' }, name: 'cilium-config-path' }],
    hostNetwork: true,
    serviceAccountName: 'cilium-operator',
    priorityClassName: 'system-cluster-critical',
    tolerations: SYSTEM_TOLERATIONS,
    created,
  };
}

export function dnsPlan(profile: ProviderProfile, created: number): WorkloadPlan {
  return {
    namespace: 'kube-system',
    name: profile.dns.name,
    kind: 'Deployment',
    selector: { 'k8s-app': 'kube-dns' },
    containers: [
      {
        name: profile.dns.name === 'coredns' ? 'coredns' : 'kubedns',
        image: profile.dns.image,
        args:
          profile.dns.name === 'coredns'
            ? ['-conf', '/etc/coredns/Corefile']
            : ['--domain=cluster.local.', '--dns-port=10053', '--config-dir=/kube-dns-config', '--v=2'],
        ports: [
          { containerPort: 53, name: 'dns', protocol: 'UDP' },
          { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
          { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
        ],
        httpProbe: { path: '/health', port: 8080 },
        resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { add: ['NET_BIND_SERVICE'], drop: ['all'] },
          readOnlyRootFilesystem: true,
        },
        volumeMounts: [{ mountPath: '/etc/coredns', name: 'config-volume', readOnly: true }],
      },
    ],
    volumes: [
      { configMap: { defaultMode: 420, items: [{ key: 'Corefile', path: 'Corefile' }], name: profile.dns.name }, name: 'config-volume' },
    ],
    serviceAccountName: profile.dns.name,
    priorityClassName: 'system-cluster-critical',
    tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
    dnsPolicy: 'Default',
    created,
  };
}

/** The cluster DNS Service (kube-system/kube-dns, as kubeadm and the clouds name it). */
export function dnsServicePlan(clusterIP: string, created: number): ServicePlan {
  return {
    namespace: 'kube-system',
    name: 'kube-dns',
    type: 'ClusterIP',
    clusterIP,
    selector: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
    ],
    labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    created,
  };
}

export const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`;

export interface AppPlanInput {
  namespace: string;
  name: string;
  kind: WorkloadKind;
  image: string;
  /** Container ports; the first one named `http` (if any) gets readiness and liveness probes. */
  ports: Array<{ name: string; containerPort: number; protocol?: string; hostPort?: number }>;
  env?: GeneratedEnvVar[];
  resources?: ContainerPlan['resources'];
  /** Name of the main container (default: the workload name, or `app` when that is long). */
  containerName?: string;
  /** Adds a log-shipping sidecar. */
  sidecar?: boolean;
  /** Mounts a `<name>-config` ConfigMap at /etc/app (default true). */
  configVolume?: boolean;
  /** Adds a liveness probe next to the readiness probe (default true). */
  liveness?: boolean;
  hostNetwork?: boolean;
  created: number;
  serviceAccountName?: string;
  team?: string;
  version?: string;
  parent?: WorkloadPlan['parent'];
  podAnnotations?: Record<string, string>;
  restartPolicy?: string;
  command?: string[];
  args?: string[];
  /** StatefulSets get a data volume claim per pod; here only the mount. */
  dataVolume?: boolean;
  ownerUid?: string;
  extraLabels?: Record<string, string>;
}

export const RESOURCE_PROFILES: ReadonlyArray<NonNullable<ContainerPlan['resources']>> = deepFreeze([
  { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
  { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m', memory: '512Mi' } },
  { limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
  { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '1', memory: '2Gi' } },
  { limits: { cpu: '4', memory: '4Gi' }, requests: { cpu: '1', memory: '2Gi' } },
]);

const SIDECAR: ContainerPlan = deepFreeze({
  name: 'log-shipper',
  image: 'cr.fluentbit.io/fluent/fluent-bit:2.2.2',
  resources: { limits: { memory: '128Mi' }, requests: { cpu: '20m', memory: '32Mi' } },
  volumeMounts: [{ mountPath: '/var/log/app', name: 'app-logs', readOnly: true }],
});

/** An application workload (Deployment, StatefulSet, DaemonSet, Job or bare pod) as teams write them. */
export function appPlan(input: AppPlanInput): WorkloadPlan {
  const http = input.ports.find((p) => p.name === 'http' || p.name === 'https');
  const withConfig = input.configVolume !== false;
  const mounts: Array<{ mountPath: string; name: string; readOnly: boolean }> = withConfig
    ? [{ mountPath: '/etc/app', name: 'config', readOnly: true }]
    : [];
  if (input.sidecar) mounts.push({ mountPath: '/var/log/app', name: 'app-logs', readOnly: false });
  if (input.dataVolume) mounts.push({ mountPath: '/var/lib/data', name: 'data', readOnly: false });
  const main: ContainerPlan = {
    name: input.containerName ?? (input.name.length <= 20 ? input.name : 'app'),
    image: input.image,
    command: input.command,
    args: input.args,
    ports: input.ports.map((p) => ({ containerPort: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP', hostPort: p.hostPort })),
    env: input.env,
    resources: input.resources ?? RESOURCE_PROFILES[1],
    httpProbe: http ? { path: '/healthz', port: http.containerPort, liveness: input.liveness !== false } : undefined,
    volumeMounts: mounts.map((m) => (m.readOnly ? m : { mountPath: m.mountPath, name: m.name })),
  };
  const volumes: GeneratedVolume[] = withConfig ? [{ configMap: { defaultMode: 420, name: `${input.name}-config` }, name: 'config' }] : [];
  if (input.sidecar) volumes.push({ emptyDir: {}, name: 'app-logs' });
  if (input.dataVolume) volumes.push({ name: 'data', persistentVolumeClaim: { claimName: `data-${input.name}` } });
  const labels: Record<string, string> = { ...(input.extraLabels ?? {}) };
  if (input.team) labels.team = input.team;
  if (input.version) labels.version = input.version;
  return {
    namespace: input.namespace,
    name: input.name,
    kind: input.kind,
    selector: { app: input.name },
    labels,
    podAnnotations: input.podAnnotations,
    containers: input.sidecar ? [main, SIDECAR] : [main],
    volumes,
    hostNetwork: input.hostNetwork,
    serviceAccountName: input.serviceAccountName,
    restartPolicy: input.restartPolicy,
    created: input.created,
    parent: input.parent,
    ownerUid: input.ownerUid,
    // Teams that ship logs with a sidecar here also opt out of the API token (they never call the API server).
    automountServiceAccountToken: input.sidecar ? false : undefined,
  };
}

/** A few environment variables as services set them: identity, level, and where their upstreams are. */
export function appEnv(rng: SeededRandom, name: string, upstreams: ReadonlyArray<{ name: string; url: string }>): GeneratedEnvVar[] {
  const env: GeneratedEnvVar[] = [
    { name: 'APP_NAME', value: name },
    { name: 'APP_ENV', value: 'production' },
    { name: 'LOG_LEVEL', value: rng.chance(0.8) ? 'info' : 'warn' },
    fieldRef('POD_NAME', 'metadata.name'),
  ];
  if (rng.chance(0.5)) env.push(fieldRef('POD_IP', 'status.podIP'));
  if (rng.chance(0.4)) env.push({ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC' });
  else env.push({ name: 'GOMAXPROCS', value: String(rng.pick([1, 2, 4])) });
  for (const u of upstreams) env.push({ name: `${u.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`, value: u.url });
  return env;
}
