/** A plain aligned text table for the terminal. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** One column of a table that fits a width. */
export interface FitColumn {
  header: string;
  cells: string[];
  /** Its width when shortened ("…" ends a cut cell); absent: never shortened. */
  minWidth?: number;
  /** Shorter words for the same cells (e.g. "n/a"), used when the column is shortened. */
  shortCells?: string[];
}

/**
 * One step taken, in order, while a table is wider than the terminal: leave a column out, or
 * shorten it to its `minWidth`. The steps name columns by header; a step naming an absent column is skipped.
 */
export type FitStep = { drop: string } | { shorten: string; to?: number };

const GAP = 2;

/** The terminal's width: `COLUMNS` when set, the TTY's width, else 100 (a pipe, a file, CI). */
export function terminalColumns(
  stream: { isTTY?: boolean; columns?: number } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const fromEnv = Number(env['COLUMNS']);
  if (Number.isInteger(fromEnv) && fromEnv >= 20) return fromEnv;
  if (stream.isTTY && stream.columns && stream.columns >= 20) return stream.columns;
  return 100;
}

/** Cuts a cell to `width` characters, the last one "…". */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/**
 * A table no wider than `width`: the steps are applied in order until it fits; if it still does not,
 * the last column is cut to what is left. Every line ends trimmed.
 */
export function renderFittedTable(columns: FitColumn[], width: number, steps: FitStep[]): string {
  let cols = columns.map((c) => ({ ...c, width: Math.max(c.header.length, ...c.cells.map((x) => x.length)) }));
  const total = (): number => cols.reduce((a, c) => a + c.width, 0) + GAP * Math.max(0, cols.length - 1);
  for (const step of steps) {
    if (total() <= width) break;
    if ('drop' in step) cols = cols.filter((c) => c.header !== step.drop);
    else {
      const c = cols.find((x) => x.header === step.shorten);
      if (c?.shortCells) {
        c.cells = c.shortCells;
        c.width = Math.max(c.header.length, ...c.cells.map((x) => x.length));
      }
      const floor = step.to ?? c?.minWidth;
      if (c && floor !== undefined && c.width > floor) c.width = Math.max(floor, c.width - (total() - width));
    }
  }
  // Columns left out may have freed more room than needed: give it back to the cut columns, first one first.
  for (const c of cols) {
    const natural = Math.max(c.header.length, ...c.cells.map((x) => x.length));
    if (c.width < natural && total() < width) c.width = Math.min(natural, c.width + (width - total()));
  }
  const last = cols[cols.length - 1];
  if (last && total() > width) last.width = Math.max(last.header.length, last.width - (total() - width));
  const rows = columns[0] ? columns[0].cells.map((_, r) => cols.map((c) => c.cells[r] ?? '')) : [];
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const t = truncate(cell, cols[i]!.width);
        return i === cells.length - 1 ? t : t.padEnd(cols[i]!.width);
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(cols.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}
