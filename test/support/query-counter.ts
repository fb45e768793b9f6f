import { Client } from 'pg';

/**
 * Records every statement that a `pg` client of this process sends to PostgreSQL while `work` runs: one entry per
 * round trip. The app's pool (through TypeORM) and raw clients alike go through `Client.prototype.query`.
 */
export async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const original = Client.prototype.query;
  const patched = function (this: Client, ...args: unknown[]) {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
    statements.push((text ?? String(config)).replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  (Client.prototype as { query: unknown }).query = patched;
  try {
    await work();
  } finally {
    (Client.prototype as { query: unknown }).query = original;
  }
  return statements;
}
