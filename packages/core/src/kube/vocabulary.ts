/**
 * The Kubernetes vocabulary the model reads: every annotation, label and well-known name, in one
 * place. Normalization (cluster/), slimming (kube/slim), the live model (live/), detection
 * (profile/) and the scenario generator all use these, so a key is spelled once.
 * The cloud signals follow the providers' documentation (see docs/ and loopback-model.md).
 */

export type Provider = 'tke' | 'aws' | 'azure' | 'gcp' | 'unknown';

export const PROVIDERS: readonly Provider[] = ['tke', 'aws', 'azure', 'gcp'];

/** `spec.providerID` prefixes. */
export const PROVIDER_ID_PREFIX: Record<Exclude<Provider, 'unknown'>, string> = {
  tke: 'qcloud://',
  aws: 'aws://',
  azure: 'azure://',
  gcp: 'gce://',
};

/** Service annotations the model reads (internal LB, direct-to-pod, prevent-loopback, client IP). */
export const ANNOTATION = {
  tkeInternalSubnet: 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid',
  tkeDirectAccess: 'service.cloud.tencent.com/direct-access',
  tkePreventLoopback: 'service.cloud.tencent.com/prevent-loopback',
  awsScheme: 'service.beta.kubernetes.io/aws-load-balancer-scheme',
  awsInternalLegacy: 'service.beta.kubernetes.io/aws-load-balancer-internal',
  awsNlbTargetType: 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type',
  awsLbType: 'service.beta.kubernetes.io/aws-load-balancer-type',
  awsTargetGroupAttributes: 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes',
  azureInternal: 'service.beta.kubernetes.io/azure-load-balancer-internal',
  gkeLbType: 'networking.gke.io/load-balancer-type',
  gcpLbTypeLegacy: 'cloud.google.com/load-balancer-type',
} as const;

/** Annotation keys worth keeping from a Service (everything else is dropped at normalization). */
export const SERVICE_ANNOTATION_KEYS: ReadonlySet<string> = new Set(Object.values(ANNOTATION));

export const LABEL = {
  /** On a Node: the cloud LB does not send traffic to it. */
  excludeFromLb: 'node.kubernetes.io/exclude-from-external-load-balancers',
  /** On an EndpointSlice: the Service it belongs to. */
  serviceName: 'kubernetes.io/service-name',
  /** The node name in an endpoint's (deprecated) topology. */
  hostname: 'kubernetes.io/hostname',
} as const;

/** Kept for the callers that name it alone. */
export const EXCLUDE_FROM_LB_LABEL = LABEL.excludeFromLb;

/** The namespaces the datapath's own pods run in (cilium sometimes in its own). */
export const DATAPATH_NAMESPACES: readonly string[] = ['kube-system', 'cilium'];

/** kube-proxy: its DaemonSet / ConfigMap name, and the labels its pods carry in the common installers. */
export const KUBE_PROXY_NAME = 'kube-proxy';
export const KUBE_PROXY_LABELS: ReadonlyArray<readonly [string, string]> = [
  ['k8s-app', 'kube-proxy'],
  ['component', 'kube-proxy'],
  ['app', 'kube-proxy'],
];

/** Cilium's agent: its DaemonSet name and the labels its pods carry. */
export const CILIUM_NAME = 'cilium';
export const CILIUM_AGENT_LABELS: ReadonlyArray<readonly [string, string]> = [
  ['k8s-app', 'cilium'],
  ['app.kubernetes.io/name', 'cilium-agent'],
];

/** `kube-system/ip-masq-agent`: which destinations pod traffic is masqueraded for. */
export const IP_MASQ_AGENT_NAME = 'ip-masq-agent';

/** `spec.loadBalancerClass` of the AWS Load Balancer Controller's NLBs. */
export const AWS_LB_CONTROLLER_CLASS = 'service.k8s.aws/nlb';
