#!/usr/bin/env node
// Writes the alert rules, the PrometheusRule and the provisioned dashboard from the mixin: Debian's
// `jsonnet` evaluates it to JSON, js-yaml writes the YAML. Run after editing deploy/mixin
// (`node deploy/mixin/generate.js`); a test fails when the committed files are out of date.
// Usage: generate.js [ROOT]  (where to write; default the repository, the test writes elsewhere)
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');
const yaml = require('js-yaml');

const root = resolve(process.argv[2] ?? join(__dirname, '..', '..'));
const mixin = (field) =>
  JSON.parse(execFileSync('jsonnet', ['-J', __dirname, '-e', `(import 'mixin.libsonnet').${field}`], { encoding: 'utf8' }));
const header =
  '# Generated from deploy/mixin (config.libsonnet holds the thresholds and selectors): edit there, then run node deploy/mixin/generate.js.\n';
const write = (file, text) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
};
const toYaml = (doc) => yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false });

const alerts = mixin('prometheusAlerts');
write('deploy/prometheus/loopscope-rules.yaml', header + toYaml(alerts));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'loopscope',
    namespace: 'loopscope',
    labels: {
      'app.kubernetes.io/name': 'loopscope-exporter',
      'app.kubernetes.io/part-of': 'loopscope',
      'app.kubernetes.io/component': 'alerts',
    },
  },
  spec: alerts,
};
write(
  'deploy/kubernetes/prometheusrule.yaml',
  header +
    '# For the Prometheus Operator, which selects PrometheusRules by label (kube-prometheus-stack: release: <helm release>).\n' +
    toYaml(rule),
);
write(
  'apps/grafana-panel/provisioning/dashboards/loopback-risk.json',
  JSON.stringify(mixin("grafanaDashboards['loopback-risk.json']"), null, 2) + '\n',
);
