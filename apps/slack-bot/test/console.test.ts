import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ask } from '../src/console';
import { closedPortUrl } from './support/runningBot';
import { startExporter, type RunningExporter } from '@loopscope/testkit';

jest.setTimeout(60_000);

const MAIN = join(__dirname, '..', 'dist', 'main.js');

async function run(
  argv: string[],
  extra: { env?: Record<string, string>; defaultExporter?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await ask(argv, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env: extra.env ?? {},
    defaultExporter: extra.defaultExporter,
  });
  return { code, out, err };
}

let exporter: RunningExporter;
beforeAll(async () => {
  exporter = await startExporter([]);
});
afterAll(async () => {
  await exporter?.stop();
});

test('with no exporter running, the console answers from the bundled demo cluster and says so', async () => {
  const r = await run(['why', 'is', 'payments', 'timing', 'out'], { defaultExporter: await closedPortUrl() });
  expect(r.code).toBe(0);
  expect(r.err).toMatch(/no exporter answers at http:\/\/127\.0\.0\.1:\d+; answering from the bundled demo cluster/);
  expect(r.out.split('\n')[0]).toMatch(
    /^payments\/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out(; checkout-api .*call(s)? it( \(env PAYMENTS_API_URL\))?)?$/,
  ); // the known callers follow when the input names them
  expect(r.out).toContain('Packet path (client on 10.0.1.11):');
  expect(r.out).toContain('Full detail: loopscope explain payments/payments-api');
});

test('against a running exporter it prints the same answer as the demo', async () => {
  const viaExporter = await run(['--exporter', `prod=${exporter.url}`, 'why does checkout time out calling payments']);
  const viaDemo = await run(['--demo', 'why does checkout time out calling payments']);
  expect(viaExporter.code).toBe(0);
  expect(viaExporter.out).toBe(viaDemo.out);
  expect(viaExporter.out.split('\n')[0]).toBe(
    'checkout/deployment/checkout-api: loopback, 16.7% of its new connections time out calling payments/payments-api',
  );
});

test('--blocks prints the Slack message; a bad flag is a usage error; a down exporter exits 1 naming it', async () => {
  const blocks = await run(['--demo', '--blocks', 'which services are at risk']);
  const msg = JSON.parse(blocks.out);
  expect(msg.blocks[0].text.text).toBe(
    ':red_circle: *2 Services at risk* of internal-LB loopback (of 9 Services; 23 of 36 client pods on at-risk nodes)',
  );
  expect(msg.text).toMatch(/^2 Services at risk/);
  expect((await run(['--frobnicate', 'x'])).code).toBe(2);
  const down = await run(['is payments at risk'], { env: { LOOPSCOPE_EXPORTERS: `prod=${await closedPortUrl()}` } });
  expect(down.code).toBe(1);
  expect(down.out).toMatch(
    /^Cluster prod did not answer, so I cannot tell right now\.\nNote: Cluster prod did not answer \(connection refused/,
  );
});

test('the documented command: node dist/main.js ask …', () => {
  const r = spawnSync(process.execPath, [MAIN, 'ask', '--exporter', `prod=${exporter.url}`, 'what if payments used Cluster'], {
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    'What if payments/payments-api used externalTrafficPolicy Cluster:\n(taking "payments" to mean payments/payments-api)\n  - payments/payments-api: loopback 18.1% → safe 0%\n',
  );
});
