/** Name matching shared by explain and the Slack bot. */
import { isCloseMatch, WORKLOAD_KIND_ALIASES } from '../../src';

describe('isCloseMatch', () => {
  it('takes a suffix, the only Service of a namespace and small typos', () => {
    expect(isCloseMatch('payments', 'payments/payments-api')).toBe(true);
    expect(isCloseMatch('payments', 'payments/checkout')).toBe(true);
    expect(isCloseMatch('paymnts-api', 'payments/payments-api')).toBe(true);
    expect(isCloseMatch('checkuot-service', 'shop/checkout-service')).toBe(true);
  });
  it('refuses other names, other namespaces and short guesses', () => {
    expect(isCloseMatch('search', 'payments/payments-api')).toBe(false);
    expect(isCloseMatch('prod/payments-api', 'staging/payments-api')).toBe(false);
    expect(isCloseMatch('api', 'payments/apx')).toBe(false);
  });
  it('stays fast on a hostile query (the distance is bounded)', () => {
    const start = Date.now();
    for (let i = 0; i < 50; i++) isCloseMatch('a'.repeat(100_000), `ns/${'b'.repeat(100_000)}`);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

it('knows kubectl short names for workload kinds', () => {
  expect(WORKLOAD_KIND_ALIASES.sts).toBe('StatefulSet');
  expect(WORKLOAD_KIND_ALIASES.deploy).toBe('Deployment');
});
