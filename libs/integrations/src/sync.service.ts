import { Injectable, Logger } from '@nestjs/common';
import { IntegrationProvider, TenantContext, UnitOfWork } from '@tenantry/core';
import { IntegrationClients } from './integration-clients';
import { COLLECTIONS_OF, ID_FIELD, Reconciler, SyncCounts, addCounts, emptyCounts, recordsAsChanges } from './reconciler';
import { CallStats } from './resilient-client';

export interface SyncResult extends SyncCounts {
  /** HTTP calls made to the service, and how many of them were retries of a failed one. */
  calls: number;
  retries: number;
}

/**
 * A pull: every record of every collection the service holds for the organization of the current job, reconciled
 * into ours. Each collection is listed first (no transaction is held open across the network), then applied in one
 * unit of work, removals included; a listing that fails removes nothing.
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger('Sync');

  constructor(
    private readonly clients: IntegrationClients,
    private readonly reconciler: Reconciler,
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
  ) {}

  async run(provider: IntegrationProvider, stats: CallStats = { calls: 0, retries: 0 }): Promise<SyncResult> {
    const orgId = this.context.requireOrgId();
    const [organization] = await this.uow.run(() => this.uow.query<{ slug: string }>('select slug from organizations where id = $1', [orgId]));
    if (!organization) throw new Error(`organization ${orgId} is not visible to its own sync`);
    const counts = emptyCounts();
    for (const collection of COLLECTIONS_OF[provider]) {
      const listedAt = new Date();
      const records = await this.clients.listAll(provider, organization.slug, collection, stats);
      const changes = recordsAsChanges(collection, records);
      const applied = await this.uow.run(async () => {
        const result = await this.reconciler.apply(collection, changes);
        result.removed += await this.reconciler.removeMissing(collection, new Set(changes.map((change) => change.externalId)), listedAt);
        return result;
      });
      addCounts(counts, applied);
      this.logger.log({ event: 'sync.collection', provider, collection, listed: records.length, idField: ID_FIELD[collection], ...applied });
    }
    return { ...counts, calls: stats.calls, retries: stats.retries };
  }
}
