import { MAX_INPUT_DEPTH, findHostileInput } from './input-guard';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

describe('findHostileInput', () => {
  it('lets ordinary input through', () => {
    expect(findHostileInput({ name: 'Ada Lovelace ✓ 😀', users: [{ email: 'a@b.test' }], n: 1, ok: true, none: null }, 'body')).toBeNull();
    expect(findHostileInput(undefined, 'body')).toBeNull();
    expect(findHostileInput(nested(MAX_INPUT_DEPTH - 1), 'body')).toBeNull();
  });

  it('names the field that holds a NUL character, however deep', () => {
    expect(findHostileInput({ admin: { name: 'a\u0000b' } }, 'body')).toEqual({ field: 'admin.name', message: 'admin.name must not contain a NUL character' });
    expect(findHostileInput({ users: [{}, { email: '\u0000' }] }, 'body')?.field).toBe('users.1.email');
    expect(findHostileInput({ q: 'x\u0000' }, 'query')?.field).toBe('q');
  });

  it('refuses lone surrogates, in values and in property names', () => {
    expect(findHostileInput({ name: '\ud800' }, 'body')?.message).toMatch(/well-formed/);
    expect(findHostileInput({ ['\udc00']: 1 }, 'body')).toEqual({ field: 'body', message: expect.stringMatching(/property name/) });
    expect(findHostileInput('\ud800', 'body')?.field).toBe('body');
  });

  it(`refuses nesting past ${MAX_INPUT_DEPTH} levels, even 100,000 deep, without recursion`, () => {
    expect(findHostileInput(nested(MAX_INPUT_DEPTH + 1), 'body')?.message).toMatch(/deeper than/);
    expect(findHostileInput({ data: nested(100_000) }, 'body')?.field).toMatch(/^data(\.a|\.0)+$/);
  });
});
