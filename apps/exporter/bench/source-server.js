// The list/watch test server (test/support/kubeApiServer.ts) in its own process, loaded with the
// generated cluster's files (argv[2]); tells the parent its kubeconfig over IPC, then serves.
'use strict';
require('./ts-register');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { startKubeApiServer } = require('../test/support/kubeApiServer.ts');

const RESOURCE = { Node: 'nodes', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointslices', ConfigMap: 'configmaps' };
(async () => {
  const [dir, kubeconfig] = process.argv.slice(2);
  const api = await startKubeApiServer();
  let n = 0;
  for (const name of readdirSync(dir).sort()) {
    for (const o of JSON.parse(readFileSync(join(dir, name), 'utf8')).items) {
      const r = RESOURCE[o.kind];
      if (r) {
        api.add(r, o);
        n++;
      }
    }
  }
  process.send({ kubeconfig: api.kubeconfig(kubeconfig), objects: n });
  process.on('disconnect', () => void api.stop().then(() => process.exit(0)));
})();
