/**
 * A paginated list (`limit`/`continue`, https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks):
 * the next page is requested as soon as the current one is decoded, so the network and the
 * server work while this process converts the page.
 */
import { SourceError } from './errors';
import type { KubeApi } from './kubeApi';
import type { ResourceSpec } from './resources';
import { isRecord, type Raw } from './watchEvents';

export interface ListPage {
  items: unknown[];
  /** 1-based. */
  number: number;
}

/** Lists every page of `spec`, handing each to `onPage` in order; returns the list's resourceVersion. */
export async function listPages(
  api: KubeApi,
  spec: ResourceSpec,
  pageSize: number,
  signal: AbortSignal,
  onPage: (page: ListPage) => void,
): Promise<{ resourceVersion: string; pages: number }> {
  const fetchPage = async (cont: string | undefined): Promise<Raw> => {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (cont) query.set('continue', cont);
    const page = await api.getJson(`${spec.path}?${query}`, signal);
    if (!isRecord(page) || !Array.isArray(page.items))
      throw new SourceError(`the list of ${spec.resource} returned something that is not a ${spec.listKind}`);
    return page;
  };
  let resourceVersion = '';
  let pages = 0;
  let next: Promise<Raw> | undefined = fetchPage(undefined);
  while (next) {
    const page: Raw = await next;
    const meta = isRecord(page.metadata) ? page.metadata : {};
    if (typeof meta.resourceVersion === 'string') resourceVersion = meta.resourceVersion;
    const cont = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
    next = cont && !signal.aborted ? fetchPage(cont) : undefined;
    // A failure of the prefetched page is seen when it is awaited; never unhandled meanwhile.
    next?.catch(() => undefined);
    pages++;
    onPage({ items: page.items as unknown[], number: pages });
  }
  return { resourceVersion, pages };
}
