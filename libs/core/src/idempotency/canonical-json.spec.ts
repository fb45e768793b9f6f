import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('ignores the order of keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('keeps the order of array items and the difference between values', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
  });

  it('encodes a missing body as null', () => {
    expect(canonicalJson(undefined)).toBe('null');
  });
});
