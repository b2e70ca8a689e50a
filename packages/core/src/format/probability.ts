/**
 * How a probability is written for people, in every output (CLI, explanations, traces, exporter log,
 * Slack, Grafana panel). One rounding rule: a figure above zero never reads "0%" (it would read as
 * safe), and one below one never reads "100%".
 *
 * This module imports nothing, so the Grafana panel can bundle it (`@loopscope/core/format`).
 */

/** 0.18055 → "18.1%"; 0.0004 → "<0.1%"; 0.99996 → ">99.9%"; 0 → "0%"; 1 → "100%". */
export function formatProbability(p: number): string {
  if (!(p > 0)) return '0%';
  if (p >= 1) return '100%';
  if (p < 0.0005) return '<0.1%';
  if (p >= 0.9995) return '>99.9%';
  return `${Number((p * 100).toFixed(1))}%`;
}

/** A probability as a decimal, for formulas ("p = 0.1806"): 4 decimals, never "0" above zero. */
export function formatP(p: number): string {
  if (!(p > 0)) return '0';
  if (p >= 1) return '1';
  if (p < 0.00005) return '<0.0001';
  if (p >= 0.99995) return '>0.9999';
  return Number(p.toFixed(4)).toString();
}
