/**
 * What an app may say about a kubeconfig it could not load, or the server it points at, without
 * echoing its contents: js-yaml quotes the offending lines (which may hold a token), and a server
 * URL may carry credentials or a query.
 */

/** The reason a kubeconfig did not load, or undefined when the error is not one of its known kinds. */
export function describeKubeconfigLoadError(err: unknown): string | undefined {
  const e = (err ?? {}) as { code?: unknown; name?: unknown; reason?: unknown; mark?: { line?: unknown } };
  if (e.code === 'ENOENT') return 'file not found';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.name === 'YAMLException') {
    const line = typeof e.mark?.line === 'number' ? ` at line ${e.mark.line + 1}` : '';
    // js-yaml's reason is its own short sentence ("bad indentation of a mapping entry"), not input.
    return `not valid YAML${line}${typeof e.reason === 'string' && e.reason.length < 120 ? ` (${e.reason})` : ''}`;
  }
  return undefined;
}

/** The server URL without user, password, query or fragment. */
export function safeServer(server: string): string {
  try {
    const u = new URL(server);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable server URL)';
  }
}
