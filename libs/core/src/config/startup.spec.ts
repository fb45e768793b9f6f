import { loadConfigOrExit } from './startup';

describe('loadConfigOrExit', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  it('stops the process with one line naming the missing variable, without a stack trace', () => {
    process.env = { PATH: saved.PATH };
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => {
      throw new Error('exited');
    }) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => loadConfigOrExit()).toThrow('exited');
    expect(exit).toHaveBeenCalledWith(1);
    const output = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
    expect(output).toContain('DATABASE_URL is required');
    expect(output).toContain('JWT_SECRET is required');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
