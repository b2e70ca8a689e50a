// Lets a bench child `require()` the exporter's TypeScript (the test server, a source kept for a
// before/after comparison), compiled on the fly with @swc/core as the tests' source child does.
'use strict';
const swc = require('@swc/core');
require.extensions['.ts'] = function (m, filename) {
  const out = swc.transformFileSync(filename, {
    swcrc: false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  m._compile(out.code, filename);
};
