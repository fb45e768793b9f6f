import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { OrgId, TenantContext } from '../context/tenant-context';
import { TenantTransaction } from './tenant-transaction';
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

  /** Runs `work` in a transaction bound to the organization of the current request or job. */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.inTenant(this.context.requireOrgId(), work);
  }

  /** Runs `work` bound to an explicit organization: for paths that resolve it before anyone is authenticated. */
  inTenant<T>(orgId: OrgId, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.transaction(async () => {
      await this.bindTenant(orgId);
      return work(this.manager);
    });
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
    return this.transaction(async () => {
      await this.bind('platform', `set_config('app.platform', 'on', true)`, [], null);
      return work(this.manager);
    });
  }

  /** Binds the current transaction to `orgId` (inside `asPlatform`, to write a new organization's first rows). */
  bindTenant(orgId: OrgId): Promise<void> {
    return this.bind(orgId, `set_config('app.tenant_id', $1, true)`, [orgId], orgId);
  }

  /** Joins the current transaction, or opens one in a context of its own that commits when `work` resolves. */
  private transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.context.transaction) return work();
    return this.context.runNested(async () => {
      const tx = await TenantTransaction.begin(this.dataSource);
      this.context.transaction = tx;
      try {
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

  private async bind(target: string, setting: string, params: string[], tokenOrg: string | null): Promise<void> {
    const tx = this.context.transaction!;
    if (tx.bound === target) return;
    const pending = this.context.takeTokenConfirmation(tokenOrg);
    if (!pending) {
      await tx.query(`select ${setting}`, params);
    } else {
      const next = params.length + 1;
      const rows = await tx.query<TokenStateRow>(
        `select ${setting} as bound, ${TOKEN_STATE_COLUMNS} from (select 1) as one left join token_state($${next}, $${next + 1}) as s on true`,
        [...params, tokenOrg, pending.subject],
      );
      pending.confirm(toTokenState(rows[0]));
    }
    tx.bound = target;
  }
}
