/** The resources the source lists and watches, and the kube-proxy ConfigMap it polls. */
import type * as k8s from '@kubernetes/client-node';
import type { WatchedResource } from '../types';

export type InformedResource = Exclude<WatchedResource, 'configmaps'>;

export interface Apis {
  core: k8s.CoreV1Api;
  discovery: k8s.DiscoveryV1Api;
}

export type ListParams = { limit?: number; _continue?: string };

export interface ResourceSpec {
  resource: InformedResource;
  path: string;
  kind: string;
  apiVersion: string;
  listKind: string;
  list(apis: Apis, params: ListParams, options: k8s.ConfigurationOptions): Promise<unknown>;
}

export const SPECS: readonly ResourceSpec[] = [
  {
    resource: 'nodes',
    path: '/api/v1/nodes',
    kind: 'Node',
    apiVersion: 'v1',
    listKind: 'NodeList',
    list: (a, p, o) => a.core.listNode(p, o),
  },
  {
    resource: 'pods',
    path: '/api/v1/pods',
    kind: 'Pod',
    apiVersion: 'v1',
    listKind: 'PodList',
    list: (a, p, o) => a.core.listPodForAllNamespaces(p, o),
  },
  {
    resource: 'services',
    path: '/api/v1/services',
    kind: 'Service',
    apiVersion: 'v1',
    listKind: 'ServiceList',
    list: (a, p, o) => a.core.listServiceForAllNamespaces(p, o),
  },
  {
    resource: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    listKind: 'EndpointSliceList',
    list: (a, p, o) => a.discovery.listEndpointSliceForAllNamespaces(p, o),
  },
];


export const KUBE_PROXY = { namespace: 'kube-system', name: 'kube-proxy' } as const;
