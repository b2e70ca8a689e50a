/**
 * Shapes of the objects the generator writes: the fields `kubectl get -o json` prints for them
 * (without managedFields). Declared as type aliases, not interfaces, so that they are assignable to
 * loose `{ [field: string]: unknown }` object types elsewhere in the core.
 */

export type GeneratorProvider = 'tke' | 'aws' | 'azure' | 'gcp';
export type GeneratorProxyMode = 'ipvs' | 'iptables' | 'nftables' | 'cilium';

export const GENERATOR_PROVIDERS: readonly GeneratorProvider[] = ['tke', 'aws', 'azure', 'gcp'];
export const GENERATOR_PROXY_MODES: readonly GeneratorProxyMode[] = ['ipvs', 'iptables', 'nftables', 'cilium'];

export type GeneratedOwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

export type GeneratedObjectMeta = {
  annotations?: Record<string, string>;
  creationTimestamp: string;
  generateName?: string;
  generation?: number;
  labels?: Record<string, string>;
  name: string;
  namespace?: string;
  ownerReferences?: GeneratedOwnerReference[];
  resourceVersion: string;
  uid: string;
};

export type GeneratedKubeObject = {
  apiVersion: string;
  kind: string;
  metadata: GeneratedObjectMeta;
};

export type GeneratedCondition = {
  lastHeartbeatTime?: string;
  lastProbeTime?: string | null;
  lastTransitionTime: string;
  lastUpdateTime?: string;
  message?: string;
  reason?: string;
  status: 'True' | 'False' | 'Unknown';
  type: string;
};

export type GeneratedTaint = { effect: string; key: string; timeAdded?: string; value?: string };

export type GeneratedNode = GeneratedKubeObject & {
  kind: 'Node';
  spec: {
    podCIDR?: string;
    podCIDRs?: string[];
    providerID: string;
    taints?: GeneratedTaint[];
  };
  status: {
    addresses: Array<{ address: string; type: string }>;
    allocatable: Record<string, string>;
    capacity: Record<string, string>;
    conditions: GeneratedCondition[];
    daemonEndpoints: { kubeletEndpoint: { Port: number } };
    images: ReadonlyArray<{ names: string[]; sizeBytes: number }>;
    nodeInfo: {
      architecture: string;
      bootID: string;
      containerRuntimeVersion: string;
      kernelVersion: string;
      kubeProxyVersion: string;
      kubeletVersion: string;
      machineID: string;
      operatingSystem: string;
      osImage: string;
      systemUUID: string;
    };
  };
};

export type GeneratedEnvVar = {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { apiVersion: string; fieldPath: string }; configMapKeyRef?: { key: string; name: string } };
};

export type GeneratedVolumeMount = { mountPath: string; name: string; readOnly?: boolean };

export type GeneratedContainer = {
  args?: string[];
  command?: string[];
  env?: GeneratedEnvVar[];
  image: string;
  imagePullPolicy: string;
  livenessProbe?: Record<string, unknown>;
  name: string;
  ports?: Array<{ containerPort: number; hostPort?: number; name?: string; protocol: string }>;
  readinessProbe?: Record<string, unknown>;
  resources: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  terminationMessagePath: string;
  terminationMessagePolicy: string;
  volumeMounts?: GeneratedVolumeMount[];
};

export type GeneratedVolume = { name: string } & Record<string, unknown>;

export type GeneratedToleration = { effect?: string; key?: string; operator: string; tolerationSeconds?: number; value?: string };

export type GeneratedPodSpec = {
  affinity?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  containers: GeneratedContainer[];
  dnsPolicy: string;
  enableServiceLinks?: boolean;
  hostNetwork?: boolean;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  preemptionPolicy?: string;
  priority: number;
  priorityClassName?: string;
  restartPolicy: string;
  schedulerName: string;
  securityContext: Record<string, unknown>;
  serviceAccount: string;
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  tolerations?: GeneratedToleration[];
  volumes?: GeneratedVolume[];
};

export type GeneratedContainerState = {
  running?: { startedAt: string };
  terminated?: { containerID?: string; exitCode: number; finishedAt: string; reason: string; startedAt: string };
  waiting?: { message?: string; reason: string };
};

export type GeneratedContainerStatus = {
  containerID?: string;
  image: string;
  imageID: string;
  lastState: GeneratedContainerState;
  name: string;
  ready: boolean;
  restartCount: number;
  started: boolean;
  state: GeneratedContainerState;
};

export type GeneratedPodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export type GeneratedPod = GeneratedKubeObject & {
  kind: 'Pod';
  spec: GeneratedPodSpec;
  status: {
    conditions: GeneratedCondition[];
    containerStatuses?: GeneratedContainerStatus[];
    hostIP?: string;
    phase: GeneratedPodPhase;
    podIP?: string;
    podIPs?: Array<{ ip: string }>;
    qosClass: string;
    startTime?: string;
  };
};

export type GeneratedServicePort = {
  name?: string;
  nodePort?: number;
  port: number;
  protocol: string;
  targetPort: number | string;
};

export type GeneratedLoadBalancerIngress = { hostname?: string; ip?: string; ipMode?: 'VIP' | 'Proxy' };

export type GeneratedService = GeneratedKubeObject & {
  kind: 'Service';
  spec: {
    allocateLoadBalancerNodePorts?: boolean;
    clusterIP: string;
    clusterIPs: string[];
    externalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    internalTrafficPolicy?: string;
    ipFamilies: string[];
    ipFamilyPolicy: string;
    loadBalancerClass?: string;
    ports: GeneratedServicePort[];
    selector?: Record<string, string>;
    sessionAffinity: string;
    type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  };
  status: { loadBalancer: { ingress?: GeneratedLoadBalancerIngress[] } };
};

export type GeneratedEndpoint = {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid: string };
  zone?: string;
};

export type GeneratedEndpointSlice = GeneratedKubeObject & {
  kind: 'EndpointSlice';
  addressType: 'IPv4';
  endpoints: GeneratedEndpoint[];
  ports: Array<{ name: string; port: number; protocol: string }>;
};

export type GeneratedPodTemplate = {
  metadata: { annotations?: Record<string, string>; creationTimestamp: null; labels: Record<string, string> };
  spec: GeneratedPodSpec;
};

export type GeneratedReplicaSet = GeneratedKubeObject & {
  kind: 'ReplicaSet';
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: GeneratedPodTemplate };
  status: {
    availableReplicas?: number;
    fullyLabeledReplicas?: number;
    observedGeneration: number;
    readyReplicas?: number;
    replicas: number;
  };
};

export type GeneratedJob = GeneratedKubeObject & {
  kind: 'Job';
  spec: {
    backoffLimit: number;
    completions: number;
    parallelism: number;
    selector: { matchLabels: Record<string, string> };
    template: GeneratedPodTemplate;
  };
  status: {
    active?: number;
    completionTime?: string;
    conditions?: GeneratedCondition[];
    startTime: string;
    succeeded?: number;
  };
};

export type GeneratedDaemonSet = GeneratedKubeObject & {
  kind: 'DaemonSet';
  spec: {
    revisionHistoryLimit: number;
    selector: { matchLabels: Record<string, string> };
    template: GeneratedPodTemplate;
    updateStrategy: { rollingUpdate?: { maxSurge?: number; maxUnavailable: number | string }; type: string };
  };
  status: {
    currentNumberScheduled: number;
    desiredNumberScheduled: number;
    numberAvailable: number;
    numberMisscheduled: number;
    numberReady: number;
    numberUnavailable?: number;
    observedGeneration: number;
    updatedNumberScheduled: number;
  };
};

export type GeneratedConfigMap = GeneratedKubeObject & { kind: 'ConfigMap'; data: Record<string, string> };

/** A `v1` `List`, keys in the order kubectl prints them. */
export type GeneratedKubeList = {
  apiVersion: 'v1';
  items: GeneratedKubeObject[];
  kind: 'List';
  metadata: { resourceVersion: string };
};

/** Options of generateCluster. Every field is optional; see DEFAULT_GENERATE_OPTIONS. */
export type GenerateClusterOptions = {
  /** Seed of the PRNG: the same options and seed give the same cluster, byte for byte. */
  seed?: number;
  nodes?: number;
  /** Total Pod objects, system pods (kube-proxy, CNI agents, DNS) included. */
  pods?: number;
  /** Total Service objects, `default/kubernetes` and the cluster DNS Service included. */
  services?: number;
  /** How many of the Services are internal load balancers (type LoadBalancer with the provider's internal annotation). */
  internalLbServices?: number;
  /** How many are public (internet-facing) load balancers. */
  publicLbServices?: number;
  /** One provider for the whole cluster. Wins over `providers`. */
  provider?: GeneratorProvider;
  /** Weights to draw the cluster's provider from (with the seed), e.g. `{ tke: 3, aws: 1 }`. */
  providers?: Partial<Record<GeneratorProvider, number>>;
  /** Default: ipvs on TKE, iptables elsewhere. `cilium` means Cilium's kube-proxy replacement (no kube-proxy pods). */
  proxyMode?: GeneratorProxyMode;
  /** Fraction of LoadBalancer Services with `externalTrafficPolicy: Local`. */
  localShare?: number;
  /** Fraction of internal LB Services with direct-to-pod backends (TKE direct access, AWS NLB IP targets; ignored on Azure/GCP). */
  directToPodShare?: number;
  /** Fraction of LoadBalancer Services whose ingress IPs carry `ipMode: Proxy`. */
  ipModeProxyShare?: number;
  /** TKE: fraction of internal LB Services with `service.cloud.tencent.com/prevent-loopback: "true"`. */
  preventLoopbackShare?: number;
  /** One kube-proxy/kubelet version on every node (overrides the provider default and fixedBuildShare). */
  kubeProxyVersion?: string;
  /** TKE: fraction of nodes on the fixed build `v1.20.6-tke.12`; the others run `v1.20.6-tke.3`. */
  fixedBuildShare?: number;
  /** Endpoints (replicas) of each application Service, drawn uniformly from [min, max]. */
  endpointsPerService?: readonly [number, number] | { min: number; max: number };
  /** Number of application namespaces, or their names. */
  namespaces?: number | readonly string[];
  /** Fraction of Service backend pods that are Running but not ready (CrashLoopBackOff). */
  notReadyPodShare?: number;
  /** Fraction of all pods that are Pending (unschedulable, no nodeName). */
  pendingPodShare?: number;
  /** Fraction of nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers`. */
  excludedNodeShare?: number;
  /** Fraction of nodes whose Ready condition is Unknown (kubelet stopped posting status). */
  notReadyNodeShare?: number;
  /** Fraction of LoadBalancer Services still waiting for their load balancer (empty `status.loadBalancer`). */
  pendingIngressShare?: number;
  /**
   * AWS: the Load Balancer Controller writes only `hostname` into the ingress. Set this to also write
   * the NLB's IP (as if resolved), so that a model keyed on ingress IPs has something to work with.
   */
  awsIngressIp?: boolean;
  /** Used in names the providers derive from the cluster (resource groups, node pools). */
  clusterName?: string;
};

export type ResolvedGenerateClusterOptions = Required<
  Omit<GenerateClusterOptions, 'provider' | 'providers' | 'proxyMode' | 'kubeProxyVersion' | 'endpointsPerService' | 'namespaces'>
> & {
  provider: GeneratorProvider;
  proxyMode: GeneratorProxyMode;
  kubeProxyVersion: string | undefined;
  endpointsPerService: { min: number; max: number };
  namespaces: readonly string[];
};

export type GeneratedClusterItems = {
  nodes: GeneratedNode[];
  pods: GeneratedPod[];
  services: GeneratedService[];
  endpointSlices: GeneratedEndpointSlice[];
  replicaSets: GeneratedReplicaSet[];
  jobs: GeneratedJob[];
  daemonSets: GeneratedDaemonSet[];
  configMaps: GeneratedConfigMap[];
};

export type GeneratedCluster = {
  options: ResolvedGenerateClusterOptions;
  /**
   * The objects. Pods of one workload share their (frozen) container, volume and label objects, as
   * a real ReplicaSet's pods share one template: treat them as read-only, copy before changing.
   */
  items: GeneratedClusterItems;
  /** Everything as one List (small clusters only: a 150,000-pod List is too long for one JSON string). */
  toList(): GeneratedKubeList;
};
