#!/usr/bin/env node
// A stand-in for conntrack-tools' `conntrack -E` on PATH: prints the event lines of the file named
// by FAKE_CONNTRACK_EVENTS (repeated FAKE_CONNTRACK_REPEAT times, default 1), then stays up (or exits
// with FAKE_CONNTRACK_EXIT, to exercise the agent's restart). Any other invocation fails like a
// conntrack without permission would.
const fs = require('node:fs');
if (process.argv[2] !== '-E') {
  process.stderr.write('conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n');
  process.exit(1);
}
const lines = fs.readFileSync(process.env.FAKE_CONNTRACK_EVENTS, 'utf8');
const repeat = Number(process.env.FAKE_CONNTRACK_REPEAT || 1);
let i = 0;
function write() {
  while (i < repeat) {
    i++;
    if (!process.stdout.write(lines)) return process.stdout.once('drain', write);
  }
  if (process.env.FAKE_CONNTRACK_EXIT) process.exit(Number(process.env.FAKE_CONNTRACK_EXIT));
  setInterval(() => undefined, 1 << 30);
}
write();
