// Browser harness: mounts the panel component with Grafana's theme, fed frames the test serialized
// into window.__LOOPSCOPE__. Bundled with esbuild (React and @grafana/ui included), not the AMD build.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme, getDefaultTimeRange, LoadingState, PanelProps, ThemeContext, toDataFrame } from '@grafana/data';
import { LinksPanel } from '../../src/components/LinksPanel';
import { defaultOptions, LinksOptions } from '../../src/types';

interface Input {
  theme: 'light' | 'dark';
  frames: unknown[];
  options: Partial<LinksOptions>;
  width: number;
  height: number;
}

declare global {
  interface Window {
    __LOOPSCOPE__: Input;
    __ERROR_COLOR__: string;
    __RENDERED__: boolean;
  }
}

const input = window.__LOOPSCOPE__;
const theme = createTheme({ colors: { mode: input.theme } });
window.__ERROR_COLOR__ = theme.colors.error.main;
document.body.style.background = theme.colors.background.primary;
document.body.style.color = theme.colors.text.primary;
document.body.style.fontFamily = theme.typography.fontFamily;
document.body.style.margin = '0';

const series = input.frames.map((f) => toDataFrame(f));
const timeRange = getDefaultTimeRange();
const props = {
  id: 1,
  data: { state: LoadingState.Done, series, timeRange },
  timeRange,
  timeZone: 'utc',
  options: { ...defaultOptions, ...input.options },
  fieldConfig: { defaults: {}, overrides: [] },
  transparent: false,
  width: input.width,
  height: input.height,
  title: 'Loopback links',
  renderCounter: 0,
  onOptionsChange: () => {},
  onFieldConfigChange: () => {},
  onChangeTimeRange: () => {},
  replaceVariables: (s: string) => s,
} as unknown as PanelProps<LinksOptions>;

const container = document.getElementById('root')!;
container.style.padding = '8px';
container.style.background = theme.colors.background.primary;
createRoot(container).render(
  <ThemeContext.Provider value={theme}>
    <LinksPanel {...props} />
  </ThemeContext.Provider>,
);
requestAnimationFrame(() => {
  window.__RENDERED__ = true;
});
