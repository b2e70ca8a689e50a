// One measurement against the test server (kubeconfig in argv[3]), in a fresh process:
// - floor: every page of the four lists fetched (keep-alive, the four lists at once, 500 a page)
//   and JSON.parse'd, nothing kept — the least any source must do;
// - source DIR: the KubernetesSource in DIR (TypeScript, compiled on the fly) feeding the engine
//   with core's slimObject, until the first sync has been analysed ("ready").
// Prints one JSON line: { ms, rssMiB }.
'use strict';
require('./ts-register');
const { Engine } = require('../dist/engine');
const { slimObject } = require('@loopscope/core');

const [mode, kubeconfig, sourceDir, clientNode] = process.argv.slice(2);
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;

async function floor() {
  const yaml = require('node:fs').readFileSync(kubeconfig, 'utf8');
  const server = /server: (\S+)/.exec(yaml)[1];
  const token = /token: (\S+)/.exec(yaml)[1];
  const paths = ['/api/v1/nodes', '/api/v1/pods', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices'];
  let items = 0;
  await Promise.all(
    paths.map(async (path) => {
      let cont = '';
      do {
        const res = await fetch(`${server}${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const page = JSON.parse(await res.text());
        items += page.items.length;
        cont = page.metadata.continue ?? '';
      } while (cont);
    }),
  );
  return items;
}

// Loaded before the clock starts: compiling and loading modules is not syncing.
const KubernetesSource = mode === 'source' ? require(`${sourceDir}/index.ts`).KubernetesSource : undefined;

async function source(baselineClient) {
  const engine = new Engine({ debounceMs: 60_000 });
  const options = { kubeconfig, logger: () => undefined, transform: (o) => slimObject(o) };
  if (baselineClient) options.clientFactory = async () => baselineClient;
  const s = new KubernetesSource(options);
  await s.start(engine, engine);
  engine.recompute();
  const objects = engine.live.objectCount;
  return { objects, stop: () => s.stop() };
}

(async () => {
  const baselineClient = clientNode ? await import(clientNode) : undefined;
  if (mode === 'source' && !clientNode) require('@kubernetes/client-node');
  const t = process.hrtime.bigint();
  const result = mode === 'floor' ? { objects: await floor() } : await source(baselineClient);
  const took = ms(t);
  global.gc();
  const rss = process.memoryUsage().rss;
  await result.stop?.();
  console.log(JSON.stringify({ mode, ms: Math.round(took), rssMiB: Math.round(rss / 1048576), objects: result.objects }));
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
