import { UserRateLimit } from '../src/rateLimit';

test('N questions per window per user; one reply when refused, then quiet; the window slides', () => {
  let now = 1_000_000;
  const limit = new UserRateLimit({ questions: 2, perSeconds: 60 }, () => now);
  expect(limit.check('alice')).toEqual({ allowed: true });
  now += 10_000;
  expect(limit.check('alice')).toEqual({ allowed: true });
  now += 1_000;
  expect(limit.check('alice')).toEqual({ allowed: false, retryAfterSeconds: 49, tell: true });
  expect(limit.check('alice')).toEqual({ allowed: false, retryAfterSeconds: 49, tell: false });
  expect(limit.check('bob')).toEqual({ allowed: true });
  now += 49_000; // the first question leaves the window
  expect(limit.check('alice')).toEqual({ allowed: true });
  expect(limit.check('alice')).toEqual({ allowed: false, retryAfterSeconds: 10, tell: true });
  expect(limit.describe()).toBe('2 questions every minute');
});
