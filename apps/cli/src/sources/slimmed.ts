import { slimObject, type KubeObject, type SourcedObject } from '@loopscope/core';

/**
 * Keeps only the fields the model reads from each object, so a parsed document can be dropped
 * before the next one is read: peak memory follows the largest input, not the sum of them.
 *
 * Objects of kinds the model does not read keep their kind and name, so the cluster counts them
 * (and reports those without a kind) the same way whichever source they came from. An object too
 * malformed to slim is kept whole: the cluster names what is wrong with it.
 */
export function slimmed(o: SourcedObject): SourcedObject {
  let slim: KubeObject | undefined;
  try {
    slim = slimObject(o.object);
  } catch {
    return o;
  }
  return { object: slim ?? stub(o.object), source: o.source, index: o.index };
}

function stub(obj: KubeObject): KubeObject {
  const m = obj.metadata;
  return {
    kind: obj.kind,
    apiVersion: obj.apiVersion,
    metadata: m && typeof m === 'object' ? { name: m.name, namespace: m.namespace } : m,
  };
}
