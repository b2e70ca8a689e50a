/** Durations as log lines show them: "250ms", "1.5s", "42s". */
export function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
