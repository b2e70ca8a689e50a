import { parse } from 'yaml';

/**
 * ConfigMap values that hold YAML (kube-proxy's `config.conf`, ip-masq-agent's `config`), read
 * with a maintained YAML parser. Anyone who can write those ConfigMaps controls the text, so it is
 * capped in size and in alias expansion, and a parse error is a message, never a throw.
 */
/** A real config.conf is 2 KB; 64 KiB is generous and keeps a hostile one cheap. */
export const MAX_CONFIG_CHARS = 64 * 1024;

export type YamlReading = { ok: true; value: unknown } | { ok: false; message: string };

export function readConfigYaml(text: string): YamlReading {
  if (text.length > MAX_CONFIG_CHARS) return { ok: false, message: `is ${text.length} characters, more than the ${MAX_CONFIG_CHARS} read` };
  try {
    return { ok: true, value: parse(text, { maxAliasCount: 50, prettyErrors: false, uniqueKeys: false }) };
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    return { ok: false, message: `is not valid YAML (${first.slice(0, 200)})` };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
