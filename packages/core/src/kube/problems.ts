/** Something wrong with the input. The object it names was skipped (or partly used); the rest was analysed. */
export interface InputProblem {
  source: string;
  /** Index of the object in its file's items. */
  item?: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** The field at fault, as a path (`spec.nodeName`). */
  field?: string;
  message: string;
}

/** "snapshot.json: item 12 (Pod default/x): spec.nodeName is missing; skipped" */
export function formatProblem(p: InputProblem): string {
  const where: string[] = [p.source];
  if (p.item !== undefined && p.kind !== undefined) {
    const id = p.namespace ? `${p.namespace}/${p.name ?? '?'}` : (p.name ?? '?');
    where.push(`item ${p.item} (${p.kind} ${id})`);
  } else if (p.item !== undefined && !p.message.startsWith('item ')) {
    where.push(`item ${p.item}`);
  }
  const field = p.field ? `${p.field}: ` : '';
  return `${where.join(': ')}: ${field}${p.message}`;
}
