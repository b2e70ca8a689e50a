/** The resources the source lists and watches, and the kube-proxy ConfigMap it polls. */
import type { WatchedResource } from '../types';

export type InformedResource = Exclude<WatchedResource, 'configmaps'>;

export interface ResourceSpec {
  resource: InformedResource;
  /** Cluster-wide list/watch path. */
  path: string;
  kind: string;
  apiVersion: string;
  listKind: string;
}

export const SPECS: readonly ResourceSpec[] = [
  { resource: 'nodes', path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1', listKind: 'NodeList' },
  { resource: 'pods', path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1', listKind: 'PodList' },
  { resource: 'services', path: '/api/v1/services', kind: 'Service', apiVersion: 'v1', listKind: 'ServiceList' },
  {
    resource: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    listKind: 'EndpointSliceList',
  },
];

export const KUBE_PROXY = { namespace: 'kube-system', name: 'kube-proxy' } as const;
