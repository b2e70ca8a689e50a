// Runnable example of the @loopscope/core API: `node examples/basic.js [snapshot.json]`.
// (Build first: `npm run build -w @loopscope/core`.)
const { readFileSync } = require('node:fs');
const core = require('@loopscope/core');

const file = process.argv[2] ?? require.resolve('@loopscope/demo/demo-cluster.json');

// 1. Kubernetes objects in: the output of `kubectl get nodes,pods,services,endpointslices -A -o json`.
const cluster = core.loadCluster([{ name: file, text: readFileSync(file, 'utf8') }]);
for (const p of cluster.problems) console.error('warning:', core.formatProblem(p));

// 2. Analyse (profile detected from the objects; any field can be overridden).
const analysis = core.analyzeCluster(cluster, { overrides: {} });

// 3. Per-Service risk: the loopscope/v1 report.
const report = core.buildReport(analysis);
for (const s of report.services.filter((x) => x.verdict === 'loopback')) {
  console.log(`${s.namespace}/${s.name}: ${(s.loopbackProbability * 100).toFixed(1)}% of new connections loop back`);
}

// 4. Explain one, and try a fix.
const worst = report.services.find((x) => x.verdict === 'loopback');
if (worst) {
  const result = core.explain(analysis, `${worst.namespace}/${worst.name}`);
  if (result.ok) console.log('\n' + core.renderExplanationText(result.explanation));
  const whatIf = core.whatIf(analysis, [{ kind: 'trafficPolicy', service: `${worst.namespace}/${worst.name}`, value: 'Cluster' }]);
  console.log('with externalTrafficPolicy Cluster:', whatIf.services[0].after);
}
