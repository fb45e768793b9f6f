import { isUUID } from 'class-validator';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * One database transaction on one pooled connection, as the unit of work opens it. Fixed queries go straight to the
 * connection as named prepared statements (parsed once per connection); the entity path gets a TypeORM entity
 * manager over the same connection, made only when it is first asked for, so subscribers see every entity write and
 * it commits or rolls back with everything else.
 */
export class TenantTransaction {
  /** What the first statement bound the transaction to: an organization id, or `platform`. */
  bound: string | null = null;
  private runner: QueryRunner | null = null;
  private readonly pendingBeforeCommit: Array<() => Promise<void>> = [];

  private constructor(
    private readonly client: PoolClient,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * Checks out a connection and opens the transaction with `first` as its first statement, in one round trip:
   * `begin; <first>` goes as one simple query, so `first` carries its values as literals (see `sqlUuid`). Answers
   * the transaction and the rows of `first`.
   */
  static async begin<R extends QueryResultRow>(dataSource: DataSource, first: string): Promise<[TenantTransaction, R[]]> {
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    const client = await pool.connect();
    const tx = new TenantTransaction(client, dataSource);
    // A checked-out client has no pool listener: a connection lost mid-transaction must fail its queries, not the process.
    client.on('error', tx.onConnectionError);
    try {
      const results = (await client.query(`begin; ${first}`)) as unknown as Array<QueryResult<R>>;
      return [tx, results[results.length - 1].rows];
    } catch (error) {
      await tx.rollback();
      throw error;
    }
  }

  private connectionError: Error | undefined;
  private readonly onConnectionError = (error: Error): void => {
    this.connectionError = error;
  };

  /** A fixed query, prepared once per connection under a name derived from its text. */
  async query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const result = await this.client.query<R>({ name: statementName(text), text, values });
    return result.rows;
  }

  /** A statement sent once, unprepared: one whose text carries literals that differ from call to call. */
  async once<R extends QueryResultRow>(text: string): Promise<R[]> {
    return (await this.client.query<R>(text)).rows;
  }

  get manager(): EntityManager {
    if (!this.runner) {
      // A TypeORM query runner adopting this connection and this transaction: it neither connects nor begins.
      const runner = this.dataSource.createQueryRunner();
      Object.assign(runner, { databaseConnection: this.client, transactionDepth: 1, isTransactionActive: true });
      this.runner = runner;
    }
    return this.runner.manager;
  }

  /**
   * Work that must happen in this transaction after everything else, and before it commits (the audit trail's
   * batch): if it fails, the transaction rolls back with the changes it was about.
   */
  beforeCommit(task: () => Promise<void>): void {
    this.pendingBeforeCommit.push(task);
  }

  async commit(): Promise<void> {
    for (let task = this.pendingBeforeCommit.shift(); task; task = this.pendingBeforeCommit.shift()) await task();
    await this.client.query('commit');
    this.end();
  }

  /** Rolls back; a connection that cannot even do that is destroyed rather than given back to the pool. */
  async rollback(): Promise<void> {
    try {
      await this.client.query('rollback');
      this.end();
    } catch (error) {
      this.end(error as Error);
    }
  }

  private end(error?: Error): void {
    if (this.runner) {
      Object.assign(this.runner, { isTransactionActive: false, isReleased: true, databaseConnection: undefined });
    }
    this.client.off('error', this.onConnectionError);
    this.client.release(error ?? this.connectionError);
  }
}

/** A UUID as an SQL literal, for the one statement that travels with `begin`; anything else is refused, never quoted. */
export function sqlUuid(value: string): string {
  if (!isUUID(value)) throw new Error('Only a UUID can be written into a statement as a literal');
  return `'${value}'::uuid`;
}

const names = new Map<string, string>();

export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `t_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}
