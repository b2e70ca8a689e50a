/**
 * Links into the Grafana dashboard. The configured URL may carry `{cluster}`, `{namespace}` and
 * `{service}` placeholders; without them the values are added as the dashboard's `var-*` variables.
 */
export function dashboardLink(
  base: string | undefined,
  where: { cluster?: string; namespace?: string; service?: string },
): string | undefined {
  if (!base) return undefined;
  if (/\{(cluster|namespace|service)\}/.test(base)) {
    return base.replace(/\{(cluster|namespace|service)\}/g, (_, key: 'cluster' | 'namespace' | 'service') =>
      encodeURIComponent(where[key] ?? ''),
    );
  }
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  for (const key of ['cluster', 'namespace', 'service'] as const) {
    const value = where[key];
    if (value) url.searchParams.set(`var-${key}`, value);
  }
  return url.toString();
}
