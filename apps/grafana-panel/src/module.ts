import { PanelPlugin } from '@grafana/data';
import { LinksPanel } from './components/LinksPanel';
import { defaultOptions, LinksOptions } from './types';

export const plugin = new PanelPlugin<LinksOptions>(LinksPanel).setPanelOptions((builder) =>
  builder
    .addSliderInput({
      path: 'minProbability',
      name: 'Minimum probability',
      description: 'Links less likely to loop than this are hidden (or drawn as safe).',
      defaultValue: defaultOptions.minProbability,
      settings: { min: 0, max: 1, step: 0.01 },
    })
    .addRadio({
      path: 'groupClientsBy',
      name: 'Group clients by',
      defaultValue: defaultOptions.groupClientsBy,
      settings: {
        options: [
          { value: 'workload', label: 'Workload' },
          { value: 'node', label: 'Node' },
        ],
      },
    })
    .addBooleanSwitch({
      path: 'showSafe',
      name: 'Show safe links',
      description: 'Draw links under the minimum and Services that cannot loop, in a neutral colour.',
      defaultValue: defaultOptions.showSafe,
    })
    .addNumberInput({
      path: 'maxLinks',
      name: 'Maximum links',
      description: 'The most likely links are drawn; the rest are counted.',
      defaultValue: defaultOptions.maxLinks,
      settings: { min: 1, integer: true },
    })
    .addRadio({
      path: 'orientation',
      name: 'Orientation',
      defaultValue: defaultOptions.orientation,
      settings: {
        options: [
          { value: 'horizontal', label: 'List beside' },
          { value: 'vertical', label: 'List below' },
        ],
      },
    })
    .addTextInput({
      path: 'exporterUrl',
      name: 'Exporter URL',
      description: 'Base URL of loopscope-exporter (e.g. http://loopscope-exporter.loopscope:9808) for the explain link.',
      defaultValue: defaultOptions.exporterUrl,
    }),
);
