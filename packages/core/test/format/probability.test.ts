import { formatP, formatProbability } from '../../src/format/probability';

describe('formatProbability: one rounding rule for every output', () => {
  it('writes one decimal, trailing zero dropped', () => {
    expect(formatProbability(0.180556)).toBe('18.1%');
    expect(formatProbability(1 / 3)).toBe('33.3%');
    expect(formatProbability(0.5)).toBe('50%');
  });
  it('never reads "0%" above zero nor "100%" below one', () => {
    expect(formatProbability(0.0004)).toBe('<0.1%');
    expect(formatProbability(0.0005)).toBe('0.1%');
    expect(formatProbability(0.99996)).toBe('>99.9%');
    expect(formatProbability(0)).toBe('0%');
    expect(formatProbability(1)).toBe('100%');
  });
  it('treats a value that is not a number above zero as 0', () => {
    expect(formatProbability(Number.NaN)).toBe('0%');
    expect(formatProbability(-0.2)).toBe('0%');
  });
});

describe('formatP: a probability in a formula', () => {
  it('writes four decimals and never "0" above zero', () => {
    expect(formatP(0.180556)).toBe('0.1806');
    expect(formatP(0.5)).toBe('0.5');
    expect(formatP(0.00001)).toBe('<0.0001');
    expect(formatP(0)).toBe('0');
    expect(formatP(1)).toBe('1');
  });
});
