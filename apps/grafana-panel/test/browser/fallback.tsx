// Browser harness for the dashboard's fallback: the built-in table panel that shows the links where
// the loopscope plugin is not installed. Its query's frame goes through the panel's own
// transformations and overrides with Grafana's own code (@grafana/data's transformers and display
// processors). The drawing is a plain HTML table: @grafana/ui's Table does not mount outside a
// Grafana app (React reports an invalid element inside it), so only the drawing is a stand-in.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { firstValueFrom, of } from 'rxjs';
import {
  createTheme,
  DataFrame,
  FieldType,
  getDisplayProcessor,
  getFieldDisplayName,
  standardTransformers,
  ThemeContext,
  toDataFrame,
} from '@grafana/data';

interface Input {
  theme: 'light' | 'dark';
  frame: unknown;
  panel: {
    transformations: Array<{ id: string; options: unknown }>;
    fieldConfig: { overrides: Array<{ matcher: { options: string }; properties: Array<{ id: string; value: unknown }> }> };
  };
  width: number;
  height: number;
}

declare global {
  interface Window {
    __FALLBACK__: Input;
    __ROWS__: string[][];
  }
}

const input = window.__FALLBACK__;
const theme = createTheme({ colors: { mode: input.theme } });
document.body.style.background = theme.colors.background.primary;
document.body.style.color = theme.colors.text.primary;
document.body.style.fontFamily = theme.typography.fontFamily;
document.body.style.margin = '0';

const transformers: Record<string, { operator: (options: any, ctx: any) => (source: any) => any }> = {
  organize: standardTransformers.organizeFieldsTransformer,
  sortBy: standardTransformers.sortByTransformer,
};

async function main(): Promise<void> {
  let frames: DataFrame[] = [toDataFrame(input.frame)];
  for (const t of input.panel.transformations) {
    const transformer = transformers[t.id];
    if (!transformer) throw new Error(`the fallback panel uses transformation ${t.id}, which this harness does not apply`);
    frames = await firstValueFrom(of(frames).pipe(transformer.operator(t.options, { interpolate: (s: string) => s })));
  }
  const frame = frames[0]!;
  // The panel's overrides that change how values read (unit, min/max), by the field's display name
  // (organize renames through it, as Grafana's byName matcher sees it).
  for (const field of frame.fields) {
    for (const o of input.panel.fieldConfig.overrides.filter((x) => x.matcher.options === getFieldDisplayName(field, frame))) {
      for (const p of o.properties)
        if (p.id === 'unit' || p.id === 'min' || p.id === 'max') (field.config as Record<string, unknown>)[p.id] = p.value;
    }
    field.display = getDisplayProcessor({ field, theme });
  }
  window.__ROWS__ = Array.from({ length: frame.length }, (_, row) =>
    frame.fields.map((f) =>
      f.type === FieldType.number ? f.display!(f.values[row]).text + (f.display!(f.values[row]).suffix ?? '') : String(f.values[row]),
    ),
  );
  const container = document.getElementById('root')!;
  container.style.padding = '8px';
  const cell = { padding: '4px 8px', borderBottom: `1px solid ${theme.colors.border.weak}`, textAlign: 'left' as const };
  createRoot(container).render(
    <ThemeContext.Provider value={theme}>
      <table style={{ borderCollapse: 'collapse', width: input.width, fontSize: theme.typography.bodySmall.fontSize }}>
        <thead>
          <tr>
            {frame.fields.map((f) => (
              <th key={f.name} style={{ ...cell, color: theme.colors.text.secondary }}>
                {getFieldDisplayName(f, frame)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {window.__ROWS__.map((r, i) => (
            <tr key={i}>
              {r.map((v, j) => (
                <td key={j} style={cell}>
                  {v}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </ThemeContext.Provider>,
  );
}

main().catch((err) => {
  document.body.textContent = `fallback harness failed: ${(err as Error).message}`;
  window.__ROWS__ = [];
});
