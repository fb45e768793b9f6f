import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { OrgId, TenantContext } from '../context/tenant-context';
import type { Pool } from 'pg';
import { TenantTransaction, sqlUuid, statementName } from './tenant-transaction';
import { TOKEN_STATE_COLUMNS, TokenStateRow, toTokenState } from './token-state';

export class PlatformAccessDeniedError extends Error {
  constructor() {
    super('The platform path is reserved for the superadmin and the system');
  }
}

/**
 * The only way code touches tenant data. Each call opens (or joins) one transaction whose first statement binds it
 * to a tenant with a transaction-local setting, so PostgreSQL row-level security scopes every query in it. Without a
 * tenant nothing is visible: RLS fails closed. Nested calls join the transaction and never bind it again.
 *
 * When the auth guard admitted the request on a cached token state, the binding statement also reads that state
 * again (`token_state()`, no extra round trip) and the guard's confirmation refuses the request if it changed.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('PlatformPath');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly context: TenantContext,
  ) {}

  /** The entity manager of the current transaction (or a non-transactional one that sees no tenant rows). */
  get manager(): EntityManager {
    return this.context.transaction?.manager ?? this.dataSource.manager;
  }

  /**
   * A fixed query in the current transaction, straight on its connection as a prepared statement: for hot paths
   * where TypeORM's query building costs more than the query (`manager` serves everything else). Outside a
   * transaction it runs unbound, like `manager`, and RLS shows it no tenant row.
   */
  query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const tx = this.context.transaction;
    return tx ? tx.query<R>(text, values) : this.dataSource.query(text, values);
  }

  /**
   * One fixed statement on its own, in the implicit transaction PostgreSQL gives a single statement (autocommit), as
   * a prepared statement on a pooled connection: one round trip. For a hot path whose statement binds its tenant
   * itself (a function that calls `set_config('app.tenant_id', …, true)` before it writes, e.g.
   * `webhook_inbox_insert`); anything else belongs in `run`.
   */
  async single<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const result = await pool.query<R>({ name: statementName(text), text, values });
    return result.rows;
  }

  /** Runs `work` in a transaction bound to the organization of the current request or job. */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.inTenant(this.context.requireOrgId(), work);
  }

  /** Runs `work` bound to an explicit organization: for paths that resolve it before anyone is authenticated. */
  inTenant<T>(orgId: OrgId, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.transaction(orgId, () => work(this.manager));
  }

  /**
   * The explicit platform path: the superadmin managing organizations, or a named system task. It sets
   * `app.platform`, which only the organizations and platform_admins policies honour; tenant tables stay behind
   * their tenant policy, so creating an organization's first user still binds that organization first.
   */
  asPlatform<T>(work: (manager: EntityManager) => Promise<T>, options: { systemTask?: string } = {}): Promise<T> {
    // Either the caller is the superadmin, or the code names the system task it performs (bootstrap, token checks).
    const actor = this.context.actor;
    if (!options.systemTask && actor.role !== 'superadmin') throw new PlatformAccessDeniedError();
    // Every use of the platform path leaves a trace: the operator's at info, the system's routine ones at debug.
    const trace = { event: 'platform.access', actorType: actor.type, actorId: actor.id, systemTask: options.systemTask ?? null };
    if (options.systemTask) this.logger.debug(trace);
    else this.logger.log(trace);
    return this.transaction(PLATFORM, () => work(this.manager));
  }

  /** Binds the current transaction to `orgId` (inside `asPlatform`, to write a new organization's first rows). */
  async bindTenant(orgId: OrgId): Promise<void> {
    const tx = this.context.transaction;
    if (!tx) throw new Error('bindTenant runs inside a unit of work');
    await this.rebind(tx, orgId);
  }

  /**
   * Joins the current transaction (binding it to `target` if it is bound to something else), or opens one in a
   * context of its own: `begin` and the binding statement go in one round trip, and it commits when `work` resolves.
   */
  private transaction<T>(target: string, work: () => Promise<T>): Promise<T> {
    const current = this.context.transaction;
    if (current) return this.rebind(current, target).then(work);
    return this.context.runNested(async () => {
      const [tx, rows] = await TenantTransaction.begin<BindingRow>(this.dataSource, this.bindingStatement(target));
      this.context.transaction = tx;
      try {
        this.confirm(rows, target);
        const result = await work();
        await tx.commit();
        return result;
      } catch (error) {
        await tx.rollback();
        throw error;
      } finally {
        this.context.transaction = undefined;
      }
    });
  }

  /** Binds a transaction that is already open to `target`, unless it is bound to it already. */
  private async rebind(tx: TenantTransaction, target: string): Promise<void> {
    if (tx.bound !== target) this.confirm(await tx.once<BindingRow>(this.bindingStatement(target)), target);
  }

  /**
   * The statement that binds a transaction to an organization or to the platform, its values as literals (it may
   * travel with `begin`). With a token state to confirm, it reads `token_state()` in the same statement.
   */
  private bindingStatement(target: string): string {
    const setting = target === PLATFORM ? `set_config('app.platform', 'on', true)` : `set_config('app.tenant_id', ${sqlUuid(target)}::text, true)`;
    const pending = this.context.peekTokenConfirmation(tokenOrgOf(target));
    if (!pending) return `select ${setting} as bound`;
    const org = pending.orgId === null ? 'null::uuid' : sqlUuid(pending.orgId);
    return `select ${setting} as bound, ${TOKEN_STATE_COLUMNS} from (select 1) as one left join token_state(${org}, ${sqlUuid(pending.subject)}) as s on true`;
  }

  /** Marks the transaction bound, and hands the token state it read (if it read one) to the pending confirmation. */
  private confirm(rows: BindingRow[], target: string): void {
    const pending = this.context.takeTokenConfirmation(tokenOrgOf(target));
    this.context.transaction!.bound = target;
    if (pending) pending.confirm(toTokenState(rows[0]));
  }
}

const PLATFORM = 'platform';
/** The organization a binding target confirms token states for: none (a platform admin's) for the platform. */
const tokenOrgOf = (target: string): string | null => (target === PLATFORM ? null : target);

type BindingRow = TokenStateRow & { bound: string };
