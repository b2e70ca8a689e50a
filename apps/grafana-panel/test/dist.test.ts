/**
 * The built plugin as Grafana loads it: dist/module.js is an AMD module whose dependencies are only
 * Grafana's shared libraries, exporting a PanelPlugin with the panel's options.
 * Needs `npm run build` first (turbo runs it before test).
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import * as data from '@grafana/data';
import * as ui from '@grafana/ui';
import * as emotion from '@emotion/css';
import React from 'react';

const DIST = path.resolve(__dirname, '../dist');
const built = existsSync(path.join(DIST, 'module.js'));
const SHARED: Record<string, unknown> = {
  react: React,
  'react-dom': {},
  '@grafana/data': data,
  '@grafana/ui': ui,
  '@grafana/runtime': {},
  '@emotion/css': emotion,
  '@emotion/react': {},
  lodash: {},
  rxjs: {},
};

(built ? describe : describe.skip)('dist (run npm run build first)', () => {
  it('holds plugin.json, module.js, img, README and CHANGELOG', () => {
    const plugin = JSON.parse(readFileSync(path.join(DIST, 'plugin.json'), 'utf8'));
    expect(plugin).toMatchObject({ type: 'panel', id: 'loopscope-links-panel', dependencies: { grafanaDependency: '>=12.3.0' } });
    expect(plugin.info.logos).toEqual({ small: 'img/logo.svg', large: 'img/logo.svg' });
    expect(plugin.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const f of ['module.js', 'img/logo.svg', 'README.md', 'CHANGELOG.md']) {
      expect(existsSync(path.join(DIST, f))).toBe(true);
    }
    expect(readFileSync(path.join(DIST, 'README.md'), 'utf8')).toMatch(/GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=loopscope-links-panel/);
  });

  it('is an AMD module using only shared libraries and exporting the panel plugin', () => {
    let deps: string[] = [];
    let exported: Record<string, unknown> = {};
    const define = (d: string[], factory: (...args: unknown[]) => Record<string, unknown>) => {
      deps = d;
      exported = factory(...d.map((name) => SHARED[name]));
    };
    new Function('define', readFileSync(path.join(DIST, 'module.js'), 'utf8'))(define);
    expect(deps.every((d) => d in SHARED)).toBe(true);
    const plugin = exported.plugin as data.PanelPlugin;
    expect(plugin).toBeInstanceOf(data.PanelPlugin);
    // Grafana registers its option editors at start-up; stand-ins are enough to build the list.
    data.standardEditorsRegistry.setInit(() =>
      ['slider', 'radio', 'boolean', 'number', 'text'].map((id) => ({ id, name: id, editor: () => null })),
    );
    const builder = new data.PanelOptionsEditorBuilder();
    plugin.getPanelOptionsSupplier()(builder, { data: [] });
    expect(builder.getItems().map((i) => i.path)).toEqual([
      'minProbability',
      'groupClientsBy',
      'showSafe',
      'maxLinks',
      'orientation',
      'exporterUrl',
    ]);
  });
});
