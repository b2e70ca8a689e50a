// loopscope's monitoring mixin: alerts and the dashboard from one config, as kubernetes-mixin
// does. `generate` writes deploy/prometheus, deploy/kubernetes/prometheusrule.yaml and the
// provisioned dashboard from it; a test checks they are up to date.
(import 'config.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards/loopback-risk.libsonnet')
