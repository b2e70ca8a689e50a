import type { DeclaredAddress } from '../kube/containerAddresses';
import type { InputProblem } from '../kube/problems';
import type { Cidr } from '../netfilter/ruleset/cidr';

/**
 * The normalized cluster: only the fields the loopback model needs, with objects cross-referenced by
 * array index (compact and fast at 150,000 pods). Built by `buildCluster`; treated as immutable.
 */
export interface ClusterModel {
  nodes: ClusterNode[];
  nodeByName: Map<string, number>;
  pods: ClusterPod[];
  workloads: Workload[];
  services: ClusterService[];
  kubeProxy: KubeProxyInputs;
  cilium: CiliumInputs;
  /** Pods counted as clients (docs/model.md): Running, not hostNetwork, with a spec.nodeName (a node missing from the input included). */
  clientPodCount: number;
  /** Kinds the input held (an empty list of a kind counts when the caller says so): incomplete input is never safe. */
  inputKinds: Set<string>;
  /** `kube-system/ip-masq-agent` (its config), when the input has it. */
  ipMasqAgent?: IpMasqAgentConfig;
  /** Client pods that are also Service endpoints, by IP (a pod backend calling its own Service). */
  podByEndpointIp: Map<string, number>;
  /** Input that was skipped or partly used, each naming the file, item and field. */
  problems: InputProblem[];
  /** Objects of kinds loopscope does not read, by kind (not an error). */
  ignoredKinds: Record<string, number>;
}

export interface ClusterNode {
  index: number;
  name: string;
  /** First InternalIP (the source a node-SNATed packet carries). */
  internalIP?: string;
  addresses: string[];
  ready: boolean;
  /** Label node.kubernetes.io/exclude-from-external-load-balancers: not an LB backend (docs/model.md). */
  excludedFromLb: boolean;
  providerID?: string;
  kubeProxyVersion?: string;
  kubeletVersion?: string;
  /**
   * A node that pods name but the input does not hold (docs/model.md): its client pods still count; it holds
   * no backend (not Ready, never a Local backend) and the Services say the input is incomplete.
   */
  missing?: boolean;
  /** Client pods on this node. */
  clientPods: number;
  /** Client pods on this node grouped by workload: [workloadIndex, count] pairs. */
  clientWorkloads: Array<[number, number]>;
}

export type PodRole = 'client' | 'hostNetwork' | 'notRunning' | 'unscheduled';

export interface ClusterPod {
  namespace: string;
  name: string;
  /** Node index, or -1 when the pod has no (known) node. */
  node: number;
  ip?: string;
  role: PodRole;
  phase: string;
  workload: number;
  /** Addresses its containers name in env values, args or command (known callers); shared between replicas. */
  declared?: readonly DeclaredAddress[];
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicaSet' | 'Pod' | string;

/** The top owner of a pod (docs/model.md "affected workload"). */
export interface Workload {
  index: number;
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

export type TrafficPolicy = 'Local' | 'Cluster';

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
  nodePort?: number;
}

/** `kube-system/ip-masq-agent`: destinations in `nonMasqueradeCIDRs` keep the pod IP, others get the node IP. */
export interface IpMasqAgentConfig {
  nonMasqueradeCIDRs: Cidr[];
  /** The list as written (for reasons). */
  cidrText: string[];
  masqLinkLocal: boolean;
  /** Where it came from: the ConfigMap, or the agent's defaults when its config does not list CIDRs. */
  source: string;
}

export type IpMode = 'VIP' | 'Proxy';

export interface LbIngress {
  ip?: string;
  hostname?: string;
  ipMode: IpMode;
}

export interface ServiceEndpoint {
  ip: string;
  /** Node index, or -1 when the endpoint's node is not known. */
  node: number;
  ready: boolean;
  /** "namespace/name" of the backing pod, when the slice names it. */
  pod?: string;
  family: 4 | 6;
  /** Names of the Service ports this endpoint serves (its slice's / subset's ports); undefined: every port. */
  ports?: string[];
}

export interface ClusterService {
  index: number;
  namespace: string;
  name: string;
  type: string;
  clusterIP?: string;
  /** Valid policy, or undefined when the field held an unknown value (see `invalid`). */
  trafficPolicy: TrafficPolicy | undefined;
  /** Only the annotations the model reads (cloud LB annotations). */
  annotations: Record<string, string>;
  ports: ServicePort[];
  ingresses: LbIngress[];
  endpoints: ServiceEndpoint[];
  /** Where the endpoints came from: EndpointSlices, v1 Endpoints (no slice for the Service), or neither. */
  endpointSource: 'EndpointSlice' | 'Endpoints' | 'none';
  /** `spec.selector` is set (the control plane writes its endpoints). */
  hasSelector: boolean;
  /** `spec.loadBalancerClass` (AWS Load Balancer Controller: `service.k8s.aws/nlb`). */
  loadBalancerClass?: string;
  /** `spec.loadBalancerSourceRanges`, parsed; empty: no restriction. */
  sourceRanges: Cidr[];
  sourceRangesText: string[];
  /** Fields with values loopscope does not understand; the Service is reported `unknown`. */
  invalid: Array<{ field: string; message: string }>;
}

/** What kube-proxy's own objects say: the per-node pods, the DaemonSet and the ConfigMap. */
export interface KubeProxyInputs {
  pods: Array<{ node: number; name: string; args: string[]; image?: string }>;
  daemonSet?: { args: string[]; image?: string };
  /** `mode` from the kube-proxy ConfigMap (`""` means the default, iptables); undefined when absent. */
  configMapMode?: string;
}

export interface CiliumInputs {
  /** Nodes with a running cilium agent pod. */
  agentNodes: Set<number>;
  /** Image of the agent (for its version), from a pod or the DaemonSet. */
  image?: string;
}
