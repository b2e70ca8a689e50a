/**
 * What differs between clouds in the objects of a cluster: node names and providerIDs, labels,
 * address plans, the internal/public LB annotations and ingress shape, system DaemonSets, images.
 * Signals follow loopback-model.md F9.
 */
import { ANNOTATION, LABEL } from '@loopscope/core';

const EXCLUDE_FROM_LB_LABEL = LABEL.excludeFromLb;
import { KUBE_NAME_ALPHABET, SeededRandom } from './random';
import type { GeneratedLoadBalancerIngress, GeneratorProvider, GeneratorProxyMode } from './types';

export const TKE_OLD_BUILD = 'v1.20.6-tke.3';
export const TKE_FIXED_BUILD = 'v1.20.6-tke.12';

/** The annotations the model reads (kube/vocabulary.ts), plus two real clusters carry that it does not. */
export const ANNOTATIONS = {
  ...ANNOTATION,
  tkeLoadBalancerId: 'service.kubernetes.io/loadbalance-id',
  gkeNeg: 'cloud.google.com/neg',
} as const;

export { EXCLUDE_FROM_LB_LABEL };

/** One address plan: where nodes, pods, Services and LB VIPs live. */
export interface AddressPlan {
  /** Node subnets (one per zone) and the internal-LB subnet are carved from here. */
  vpcBase: string;
  /** Pod addresses: per-node blocks carved from here. */
  podBase: string;
  /** Smallest per-node pod block (a power of two). */
  podBlockSize: number;
  /** Whether the node's block is published as `spec.podCIDR` (GlobalRouter, GKE) or not (VPC/Azure CNI). */
  setsPodCIDR: boolean;
  serviceBase: string;
  /** Default size of the Service range (grown when the Services do not fit). */
  serviceSize: number;
  /** First two octets of the public addresses the provider hands out. */
  publicPrefixes: readonly string[];
}

export interface SystemDaemonSet {
  name: string;
  /** Label `k8s-app` (or `app`) value. */
  app: string;
  image: string;
  command?: string[];
  args?: string[];
  hostNetwork: boolean;
}

export interface NodeIdentity {
  name: string;
  providerID: string;
  instanceId: string;
  labels: Record<string, string>;
}

export interface ProviderProfile {
  provider: GeneratorProvider;
  defaultProxyMode: GeneratorProxyMode;
  defaultVersion: string;
  region: string;
  zones: readonly string[];
  addresses: AddressPlan;
  instanceType: string;
  cpu: number;
  memoryKi: number;
  maxPods: number;
  osImage: string;
  kernelVersion: string;
  containerRuntime: string;
  registry: string;
  /** Name, providerID and labels of node `index` with address `ip` in `zone`. */
  nodeIdentity(rng: SeededRandom, index: number, ip: string, zone: string, clusterName: string): NodeIdentity;
  internalLbAnnotations(rng: SeededRandom, directToPod: boolean): Record<string, string>;
  publicLbAnnotations(rng: SeededRandom): Record<string, string>;
  /** Annotations every Service gets (GKE NEG). */
  serviceAnnotations: Record<string, string>;
  /** Annotations the cloud controller writes once the LB exists. */
  provisionedAnnotations(rng: SeededRandom): Record<string, string>;
  loadBalancerClass?: (annotations: Record<string, string>) => string | undefined;
  /** Whether direct-to-pod backends exist on this provider (docs/model.md). */
  supportsDirectToPod: boolean;
  ingress(
    rng: SeededRandom,
    ctx: { namespace: string; name: string; ip: string; internal: boolean; includeIp: boolean; annotations: Record<string, string> },
  ): GeneratedLoadBalancerIngress;
  kubeProxyImage(version: string): string;
  kubeProxyArgs(mode: GeneratorProxyMode, clusterCidr: string): string[];
  /** GKE runs kube-proxy as a static pod; the others as a DaemonSet. */
  kubeProxyStaticPod: boolean;
  /** CNI / network agents on every node (replaced by the Cilium agent in cilium mode). */
  cniDaemonSets: readonly SystemDaemonSet[];
  dns: { name: string; image: string };
  apiserver(rng: SeededRandom): { ips: string[]; port: number };
}

const TKE_INSTANCE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const tke: ProviderProfile = {
  provider: 'tke',
  defaultProxyMode: 'ipvs',
  defaultVersion: TKE_FIXED_BUILD,
  region: 'bj',
  zones: ['800002', '800003', '800004'],
  addresses: {
    vpcBase: '10.0.0.0',
    podBase: '172.16.0.0',
    podBlockSize: 64,
    setsPodCIDR: true,
    serviceBase: '192.168.0.0',
    serviceSize: 4096,
    publicPrefixes: ['119.29', '129.211', '150.158', '175.24', '49.232'],
  },
  instanceType: 'S5.2XLARGE16',
  cpu: 8,
  memoryKi: 16_132_404,
  maxPods: 61,
  osImage: 'TencentOS Server 3.1 (Final)',
  kernelVersion: '5.4.119-19-0009.1',
  containerRuntime: 'containerd://1.4.3-tke.2',
  registry: 'ccr.ccs.tencentyun.com/acme',
  nodeIdentity(rng, _index, ip, zone) {
    const instanceId = `ins-${rng.chars(8, TKE_INSTANCE_ALPHABET)}`;
    return {
      name: ip,
      instanceId,
      providerID: `qcloud:///${zone}/${instanceId}`,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': this.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'cloud.tencent.com/node-instance-id': instanceId,
        'failure-domain.beta.kubernetes.io/region': this.region,
        'failure-domain.beta.kubernetes.io/zone': zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': ip,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': this.instanceType,
        'node.tke.cloud.tencent.com/cpu': String(this.cpu),
        'node.tke.cloud.tencent.com/memory': '16',
        'topology.kubernetes.io/region': this.region,
        'topology.kubernetes.io/zone': zone,
      },
    };
  },
  internalLbAnnotations(rng, directToPod) {
    const a: Record<string, string> = { [ANNOTATIONS.tkeInternalSubnet]: `subnet-${rng.chars(8, TKE_INSTANCE_ALPHABET)}` };
    if (directToPod) a[ANNOTATIONS.tkeDirectAccess] = 'true';
    return a;
  },
  publicLbAnnotations: () => ({}),
  serviceAnnotations: {},
  provisionedAnnotations: (rng) => ({ [ANNOTATIONS.tkeLoadBalancerId]: `lb-${rng.chars(8, TKE_INSTANCE_ALPHABET)}` }),
  supportsDirectToPod: true,
  ingress: (_rng, ctx) => ({ ip: ctx.ip }),
  kubeProxyImage: (version) => `ccr.ccs.tencentyun.com/library/kube-proxy:${version}`,
  kubeProxyArgs(mode) {
    const args = ['--kubeconfig=/var/lib/kube-proxy/config', '--hostname-override=$(NODE_NAME)', '--v=2', `--proxy-mode=${mode}`];
    if (mode === 'ipvs') args.push('--ipvs-scheduler=rr', '--ipvs-min-sync-period=1s');
    args.push('--metrics-bind-address=0.0.0.0');
    return args;
  },
  kubeProxyStaticPod: false,
  cniDaemonSets: [
    {
      name: 'tke-bridge-agent',
      app: 'tke-bridge-agent',
      image: 'ccr.ccs.tencentyun.com/tkeimages/tke-bridge-agent:v0.1.4',
      command: ['tke-bridge-agent'],
      args: ['--cni-conf-dir=/host/etc/cni/net.d/multus', '--bridge-name=cbr0', '--route-eni', '--v=2'],
      hostNetwork: true,
    },
    {
      name: 'ip-masq-agent',
      app: 'ip-masq-agent',
      image: 'ccr.ccs.tencentyun.com/library/ip-masq-agent:v2.5.0',
      args: ['--masq-chain=IP-MASQ', '--nomasq-all-reserved-ranges', '--v=2'],
      hostNetwork: true,
    },
  ],
  dns: { name: 'coredns', image: 'ccr.ccs.tencentyun.com/tkeimages/coredns:1.8.4' },
  apiserver: (rng) => ({ ips: [`169.254.128.${rng.int(2, 60)}`], port: 60002 }),
};

const aws: ProviderProfile = {
  provider: 'aws',
  defaultProxyMode: 'iptables',
  defaultVersion: 'v1.30.4-eks-a737599',
  region: 'us-west-2',
  zones: ['us-west-2a', 'us-west-2b', 'us-west-2c'],
  addresses: {
    vpcBase: '10.0.0.0',
    podBase: '10.64.0.0',
    podBlockSize: 64,
    setsPodCIDR: false,
    serviceBase: '172.20.0.0',
    serviceSize: 65536,
    publicPrefixes: ['52.11', '54.69', '35.160', '44.226'],
  },
  instanceType: 'm5.2xlarge',
  cpu: 8,
  memoryKi: 32_386_520,
  maxPods: 58,
  osImage: 'Amazon Linux 2',
  kernelVersion: '5.10.225-213.878.amzn2.x86_64',
  containerRuntime: 'containerd://1.7.22',
  registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
  nodeIdentity(rng, _index, ip, zone, clusterName) {
    const instanceId = `i-0${rng.hex(16)}`;
    const name = `ip-${ip.replace(/\./g, '-')}.${this.region}.compute.internal`;
    const zoneId = `usw2-az${this.zones.indexOf(zone) + 1}`;
    return {
      name,
      instanceId,
      providerID: `aws:///${zone}/${instanceId}`,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': this.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'eks.amazonaws.com/capacityType': 'ON_DEMAND',
        'eks.amazonaws.com/nodegroup': `${clusterName}-general`,
        'eks.amazonaws.com/nodegroup-image': 'ami-0a5010afd9acfaa26',
        'failure-domain.beta.kubernetes.io/region': this.region,
        'failure-domain.beta.kubernetes.io/zone': zone,
        'k8s.io/cloud-provider-aws': rng.hex(32),
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': this.instanceType,
        'topology.k8s.aws/zone-id': zoneId,
        'topology.kubernetes.io/region': this.region,
        'topology.kubernetes.io/zone': zone,
      },
    };
  },
  internalLbAnnotations(rng, directToPod): Record<string, string> {
    if (!directToPod && rng.chance(0.15)) {
      // The in-tree controller's annotations (older clusters, still common).
      return { [ANNOTATIONS.awsInternalLegacy]: 'true', [ANNOTATIONS.awsLbType]: 'nlb' };
    }
    return {
      [ANNOTATIONS.awsLbType]: 'external',
      [ANNOTATIONS.awsNlbTargetType]: directToPod ? 'ip' : 'instance',
      [ANNOTATIONS.awsScheme]: 'internal',
    };
  },
  publicLbAnnotations: () => ({
    [ANNOTATIONS.awsLbType]: 'external',
    [ANNOTATIONS.awsNlbTargetType]: 'instance',
    [ANNOTATIONS.awsScheme]: 'internet-facing',
  }),
  serviceAnnotations: {},
  provisionedAnnotations: () => ({}),
  loadBalancerClass: (a) => (a[ANNOTATIONS.awsLbType] === 'external' ? 'service.k8s.aws/nlb' : undefined),
  supportsDirectToPod: true,
  ingress(rng, ctx) {
    // The in-tree controller names NLBs a<32 hex>; the AWS Load Balancer Controller k8s-<ns>-<name>-<hash>.
    const hostname =
      ctx.annotations[ANNOTATIONS.awsInternalLegacy] === 'true'
        ? `a${rng.hex(32)}-${rng.hex(16)}.elb.${this.region}.amazonaws.com`
        : `k8s-${alnum(ctx.namespace).slice(0, 8)}-${alnum(ctx.name).slice(0, 8)}-${rng.hex(10)}.elb.${this.region}.amazonaws.com`;
    return ctx.includeIp ? { hostname, ip: ctx.ip } : { hostname };
  },
  kubeProxyImage: (version) =>
    `602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:${version.replace(/-eks-.*$/, '')}-minimal-eksbuild.2`,
  kubeProxyArgs: (mode, clusterCidr) => [
    '--v=2',
    '--kubeconfig=/var/lib/kube-proxy/kubeconfig',
    '--hostname-override=$(NODE_NAME)',
    `--proxy-mode=${mode}`,
    `--cluster-cidr=${clusterCidr}`,
    '--metrics-bind-address=0.0.0.0:10249',
  ],
  kubeProxyStaticPod: false,
  cniDaemonSets: [
    {
      name: 'aws-node',
      app: 'aws-node',
      image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1',
      hostNetwork: true,
    },
  ],
  dns: { name: 'coredns', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.1-eksbuild.9' },
  apiserver: (rng) => ({
    ips: [
      `10.0.${rng.int(0, 3) * 16 + rng.int(1, 14)}.${rng.int(10, 250)}`,
      `10.0.${rng.int(4, 7) * 16 + rng.int(1, 14)}.${rng.int(10, 250)}`,
    ],
    port: 443,
  }),
};

const azure: ProviderProfile = {
  provider: 'azure',
  defaultProxyMode: 'iptables',
  defaultVersion: 'v1.30.5',
  region: 'eastus',
  zones: ['eastus-1', 'eastus-2', 'eastus-3'],
  addresses: {
    vpcBase: '10.224.0.0',
    podBase: '10.240.0.0',
    podBlockSize: 32,
    setsPodCIDR: false,
    serviceBase: '10.0.0.0',
    serviceSize: 65536,
    publicPrefixes: ['20.81', '20.120', '52.226', '4.156'],
  },
  instanceType: 'Standard_D8s_v5',
  cpu: 8,
  memoryKi: 32_863_844,
  maxPods: 30,
  osImage: 'Ubuntu 22.04.5 LTS',
  kernelVersion: '5.15.0-1073-azure',
  containerRuntime: 'containerd://1.7.20-1',
  registry: 'acmeprod.azurecr.io',
  nodeIdentity(_rng, index, _ip, zone, clusterName) {
    const poolId = azurePoolId(clusterName);
    const vmss = `aks-nodepool1-${poolId}-vmss`;
    const name = `${vmss}${index.toString(36).padStart(6, '0')}`;
    const sub = azureSubscription(clusterName);
    return {
      name,
      instanceId: String(index),
      providerID: `azure:///subscriptions/${sub}/resourceGroups/mc_rg-${clusterName}_${clusterName}_${this.region}/providers/Microsoft.Compute/virtualMachineScaleSets/${vmss}/virtualMachines/${index}`,
      labels: {
        agentpool: 'nodepool1',
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': this.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'failure-domain.beta.kubernetes.io/region': this.region,
        'failure-domain.beta.kubernetes.io/zone': zone,
        'kubernetes.azure.com/agentpool': 'nodepool1',
        'kubernetes.azure.com/cluster': `MC_rg-${clusterName}_${clusterName}_${this.region}`,
        'kubernetes.azure.com/mode': 'system',
        'kubernetes.azure.com/node-image-version': 'AKSUbuntu-2204gen2containerd-202410.15.0',
        'kubernetes.azure.com/os-sku': 'Ubuntu',
        'kubernetes.azure.com/role': 'agent',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/role': 'agent',
        'node.kubernetes.io/instance-type': this.instanceType,
        'topology.disk.csi.azure.com/zone': zone,
        'topology.kubernetes.io/region': this.region,
        'topology.kubernetes.io/zone': zone,
      },
    };
  },
  internalLbAnnotations: () => ({ [ANNOTATIONS.azureInternal]: 'true' }),
  publicLbAnnotations: () => ({}),
  serviceAnnotations: {},
  provisionedAnnotations: () => ({}),
  supportsDirectToPod: false,
  ingress: (_rng, ctx) => ({ ip: ctx.ip }),
  kubeProxyImage: (version) => `mcr.microsoft.com/oss/kubernetes/kube-proxy:${version}`,
  kubeProxyArgs: (mode, clusterCidr) => [
    '--conntrack-max-per-core=0',
    `--cluster-cidr=${clusterCidr}`,
    '--kubeconfig=/var/lib/kubelet/kubeconfig',
    '--hostname-override=$(NODE_NAME)',
    `--proxy-mode=${mode}`,
    '--metrics-bind-address=0.0.0.0:10249',
    '--v=3',
  ],
  kubeProxyStaticPod: false,
  cniDaemonSets: [
    {
      name: 'azure-cns',
      app: 'azure-cns',
      image: 'mcr.microsoft.com/containernetworking/azure-cns:v1.5.32',
      args: [
        '-c',
        'tcp://$(CNSIpAddress):$(CNSPort)',
        '-t',
        '$(CNSLogTarget)',
        '-o',
        '$(CNSLogDir)',
        '-storefilepath',
        '/var/lib/azure-network/azure-cns.json',
      ],
      hostNetwork: true,
    },
  ],
  dns: { name: 'coredns', image: 'mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-hotfix.20240704' },
  apiserver: (rng) => ({ ips: [`20.${rng.int(60, 120)}.${rng.int(0, 255)}.${rng.int(1, 254)}`], port: 443 }),
};

const gcp: ProviderProfile = {
  provider: 'gcp',
  defaultProxyMode: 'iptables',
  defaultVersion: 'v1.30.5-gke.1014001',
  region: 'us-central1',
  zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
  addresses: {
    vpcBase: '10.128.0.0',
    podBase: '10.4.0.0',
    podBlockSize: 256,
    setsPodCIDR: true,
    serviceBase: '34.118.224.0',
    serviceSize: 4096,
    publicPrefixes: ['34.28', '34.66', '35.188', '104.154'],
  },
  instanceType: 'e2-standard-8',
  cpu: 8,
  memoryKi: 32_876_268,
  maxPods: 110,
  osImage: 'Container-Optimized OS from Google',
  kernelVersion: '6.1.100+',
  containerRuntime: 'containerd://1.7.22',
  registry: 'us-central1-docker.pkg.dev/acme-prod-4821/apps',
  nodeIdentity(rng, _index, _ip, zone, clusterName) {
    const group = gkeGroupHash(clusterName, zone);
    const name = `gke-${clusterName.slice(0, 14)}-default-pool-${group}-${rng.chars(4, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    const project = 'acme-prod-4821';
    return {
      name,
      instanceId: String(rng.uint32()) + String(rng.int(10000, 99999)),
      providerID: `gce://${project}/${zone}/${name}`,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': this.instanceType,
        'beta.kubernetes.io/os': 'linux',
        'cloud.google.com/gke-boot-disk': 'pd-balanced',
        'cloud.google.com/gke-container-runtime': 'containerd',
        'cloud.google.com/gke-cpu-scaling-level': '8',
        'cloud.google.com/gke-logging-variant': 'DEFAULT',
        'cloud.google.com/gke-max-pods-per-node': '110',
        'cloud.google.com/gke-nodepool': 'default-pool',
        'cloud.google.com/gke-os-distribution': 'cos',
        'cloud.google.com/machine-family': 'e2',
        'cloud.google.com/private-node': 'false',
        'failure-domain.beta.kubernetes.io/region': this.region,
        'failure-domain.beta.kubernetes.io/zone': zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': this.instanceType,
        'topology.gke.io/zone': zone,
        'topology.kubernetes.io/region': this.region,
        'topology.kubernetes.io/zone': zone,
      },
    };
  },
  internalLbAnnotations: (rng): Record<string, string> =>
    rng.chance(0.15) ? { [ANNOTATIONS.gcpLbTypeLegacy]: 'Internal' } : { [ANNOTATIONS.gkeLbType]: 'Internal' },
  publicLbAnnotations: () => ({}),
  serviceAnnotations: { [ANNOTATIONS.gkeNeg]: '{"ingress":true}' },
  provisionedAnnotations: () => ({}),
  supportsDirectToPod: false,
  ingress: (_rng, ctx) => ({ ip: ctx.ip }),
  kubeProxyImage: (version) => `gke.gcr.io/kube-proxy-amd64:${version}`,
  kubeProxyArgs: (mode, clusterCidr) => [
    '--master=https://34.172.18.41',
    '--kubeconfig=/var/lib/kube-proxy/kubeconfig',
    `--cluster-cidr=${clusterCidr}`,
    '--oom-score-adj=-998',
    '--v=2',
    `--proxy-mode=${mode}`,
    '--iptables-sync-period=1m',
    '--iptables-min-sync-period=10s',
    '--ipvs-sync-period=1m',
    '--ipvs-min-sync-period=10s',
    '--detect-local-mode=NodeCIDR',
  ],
  kubeProxyStaticPod: true,
  cniDaemonSets: [
    {
      name: 'netd',
      app: 'netd',
      image: 'gke.gcr.io/netd:v0.5.0-gke.4',
      command: ['/netd'],
      args: ['--enable-policy-routing=true', '--enable-source-valid-mark=true', '--v=3'],
      hostNetwork: true,
    },
  ],
  dns: { name: 'kube-dns', image: 'gke.gcr.io/k8s-dns-kube-dns:1.23.0-gke.9' },
  apiserver: (rng) => ({ ips: [`172.16.0.${rng.int(2, 30)}`], port: 443 }),
};

export const PROFILES: Readonly<Record<GeneratorProvider, ProviderProfile>> = { tke, aws, azure, gcp };

export const CILIUM_IMAGE = 'quay.io/cilium/cilium:v1.17.3';
export const CILIUM_OPERATOR_IMAGE = 'quay.io/cilium/operator-generic:v1.17.3';

/** A stable 8-digit AKS pool id per cluster name (AKS derives it from the cluster). */
function azurePoolId(clusterName: string): string {
  return String(10_000_000 + (hashString(clusterName) % 89_999_999));
}

function azureSubscription(clusterName: string): string {
  return new SeededRandom(hashString(`sub/${clusterName}`)).uuid();
}

/** GKE instance-group hash: one per (pool, zone). */
function gkeGroupHash(clusterName: string, zone: string): string {
  return new SeededRandom(hashString(`${clusterName}/${zone}`)).hex(8);
}

/** The AWS Load Balancer Controller drops non-alphanumerics from the names it puts in LB names. */
function alnum(s: string): string {
  return s.replace(/[^a-zA-Z0-9]/g, '');
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** `k8s-app`-style 10-character hash (pod-template-hash, controller-revision-hash). */
export function templateHash(rng: SeededRandom): string {
  return rng.chars(rng.chance(0.7) ? 10 : 9, KUBE_NAME_ALPHABET);
}
