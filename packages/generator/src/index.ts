/** Synthetic Kubernetes clusters for tests, benchmarks, demos and `loopscope generate`. */
export { generateCluster, resolveGenerateOptions, DEFAULT_GENERATE_OPTIONS, GENERATOR_NOW } from './generator';
export { toKubeList, toKubeLists } from './lists';
export type { GeneratedListFile, ToKubeListsOptions } from './lists';
export { buildDemoCluster } from './demo';
export { GENERATOR_PROVIDERS, GENERATOR_PROXY_MODES } from './types';
export type {
  GenerateClusterOptions,
  ResolvedGenerateClusterOptions,
  GeneratedCluster,
  GeneratedClusterItems,
  GeneratedKubeList,
  GeneratedKubeObject,
  GeneratedObjectMeta,
  GeneratedOwnerReference,
  GeneratedNode,
  GeneratedPod,
  GeneratedService,
  GeneratedEndpointSlice,
  GeneratedEndpoint,
  GeneratedReplicaSet,
  GeneratedJob,
  GeneratedDaemonSet,
  GeneratedConfigMap,
  GeneratedLoadBalancerIngress,
  GeneratorProvider,
  GeneratorProxyMode,
} from './types';
