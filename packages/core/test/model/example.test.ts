import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('examples/basic.js (the README example) runs against the built package', () => {
  it('prints the looping Services, an explanation and a what-if', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '../../examples/basic.js')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('payments/payments-api: 18.1% of new connections loop back');
    expect(r.stdout).toContain('Packet path');
    expect(r.stdout).toContain("with externalTrafficPolicy Cluster: { verdict: 'safe', probability: 0, worstClientProbability: 0 }");
  });
});
