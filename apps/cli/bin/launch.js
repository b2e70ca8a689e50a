// What both commands (`loopscope`, `kubectl-loopscope`) check before loading the CLI: on an older
// Node, @kubernetes/client-node 2 and undici fail while loading, which would read as an internal
// error; and npm links the bins at `npm ci`, before the build.
const MIN_NODE = 22;

/** The one line to print when this Node is too old, else undefined. */
function nodeTooOld(version) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0]);
  return major >= MIN_NODE ? undefined : `loopscope: needs Node ${MIN_NODE} or later (this is Node ${version})\n`;
}

function launch() {
  const tooOld = nodeTooOld(process.version);
  if (tooOld) {
    process.stderr.write(tooOld);
    process.exit(2);
  }
  try {
    require.resolve('../dist/main.js');
  } catch {
    process.stderr.write('loopscope: the CLI is not built yet: run `npm run build` (or `npm start`) first\n');
    process.exit(2);
  }
  require('../dist/main.js').main();
}

module.exports = { launch, nodeTooOld, MIN_NODE };
