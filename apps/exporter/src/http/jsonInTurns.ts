/**
 * `JSON.stringify` in slices, as UTF-8 chunks: a report of 150,000 pods is 130 MB of JSON, seconds
 * of synchronous work in one call. The top-level object's arrays (the Services, the links) are
 * written a batch of elements at a time; whenever a slice of about `sliceMs` is used up the event
 * loop gets a turn, so a probe waiting meanwhile is answered. Each batch goes straight into a
 * Buffer (outside the JavaScript heap), so the collector has little to do, and the chunks are sent
 * as they are (no 130 MB join or copy). Their bytes are exactly those of `JSON.stringify(value)`.
 */
export async function stringifyInTurns(value: unknown, yieldTurn: () => Promise<void>, sliceMs = 25): Promise<Buffer[]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return [Buffer.from(JSON.stringify(value) ?? 'null')];
  const chunks: Buffer[] = [];
  const write = (text: string): void => {
    if (text.length > 0) chunks.push(Buffer.from(text));
  };
  let sliceEnd = performance.now() + sliceMs;
  let head = '{';
  let first = true;
  for (const [key, field] of Object.entries(value)) {
    // What JSON.stringify leaves out of an object.
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
    head += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(field) || field.length <= BATCH) {
      head += JSON.stringify(field);
      continue;
    }
    write(`${head}[`);
    head = '';
    for (let i = 0; i < field.length; i += BATCH) {
      // A batch as an array (undefined and functions become null, as JSON.stringify writes them
      // in arrays), without its brackets.
      const batch = JSON.stringify(field.slice(i, i + BATCH));
      write((i > 0 ? ',' : '') + batch.slice(1, -1));
      if (performance.now() >= sliceEnd) {
        await yieldTurn();
        sliceEnd = performance.now() + sliceMs;
      }
    }
    head = ']';
  }
  write(`${head}}`);
  return chunks;
}

/** Elements per JSON.stringify call: few calls, and a batch of large Services is still well under a slice. */
const BATCH = 32;
