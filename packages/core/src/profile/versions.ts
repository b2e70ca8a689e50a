/** Version parsing for kube-proxy (including TKE's `-tke.N` builds) and Cilium. */
export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  /** N of a TKE build `vX.Y.Z-tke.N`. */
  tke?: number;
  raw: string;
}

/** Longer than any real version or image tag: node status and image names are outside data. */
export const MAX_VERSION_CHARS = 256;

/**
 * The first `X.Y.Z[-tke.N]` in a version string or image tag. Linear time: each number is at most
 * nine digits and must not follow another digit, so no start position backtracks over a digit run.
 */
const VERSION = /(?<!\d)v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?!\d)(?:-tke\.(\d{1,9})(?!\d))?/;

export function parseKubeVersion(raw: string | undefined): KubeVersion | undefined {
  if (!raw || typeof raw !== 'string' || raw.length > MAX_VERSION_CHARS) return undefined;
  const m = VERSION.exec(raw);
  if (!m) return undefined;
  const v: KubeVersion = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw };
  if (m[4] !== undefined) v.tke = Number(m[4]);
  return v;
}

/** Version tag of a container image: `repo/kube-proxy:v1.20.6-tke.12@sha256:…` → `v1.20.6-tke.12`. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

/**
 * TKE kube-proxy builds that bind the LB address again (docs/model.md):
 * the first fixed build in each minor line.
 */
export const TKE_FIXED_BUILDS: ReadonlyArray<{ minor: number; patch: number; tke: number }> = [
  { minor: 20, patch: 6, tke: 12 },
  { minor: 18, patch: 4, tke: 20 },
  { minor: 16, patch: 3, tke: 25 },
  { minor: 14, patch: 3, tke: 24 },
  { minor: 12, patch: 4, tke: 30 },
];

export type TkeBuildStatus = 'fixed' | 'unfixed' | 'not-tke';

/**
 * Whether a TKE kube-proxy build can bind the LB IP. Lines newer than 1.20 were released after the
 * fix and carry it; a line the doc does not list (odd minors, older than 1.12) is treated as unfixed.
 */
export function tkeBuildStatus(v: KubeVersion): TkeBuildStatus {
  if (v.tke === undefined) return 'not-tke';
  if (v.major > 1 || v.minor > 20) return 'fixed';
  const line = TKE_FIXED_BUILDS.find((b) => b.minor === v.minor);
  if (!line) return 'unfixed';
  if (v.patch !== line.patch) return v.patch > line.patch ? 'fixed' : 'unfixed';
  return v.tke >= line.tke ? 'fixed' : 'unfixed';
}

export function compareVersion(
  a: { major: number; minor: number; patch: number },
  b: { major: number; minor: number; patch: number },
): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}
