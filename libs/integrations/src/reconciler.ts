import { Injectable, Logger } from '@nestjs/common';
import { IntegrationProvider, OrgRole, ORG_ROLES, TenantContext, UnitOfWork } from '@tenantry/core';
import { User } from '@tenantry/users';
import { EntityManager, In, IsNull, LessThan } from 'typeorm';
import { ServiceRecord } from './integration-clients';
import { Invoice, Subscription, SyncedMessage } from './synced.entities';

export const SYNCED_COLLECTIONS = ['users', 'subscriptions', 'invoices', 'messages'] as const;
export type SyncedCollection = (typeof SYNCED_COLLECTIONS)[number];

/** What each service holds, in the order a sync pulls it (subscriptions before the invoices that name them). */
export const COLLECTIONS_OF: Record<IntegrationProvider, readonly SyncedCollection[]> = {
  'user-service': ['users'],
  'payment-service': ['subscriptions', 'invoices'],
  'communication-service': ['messages'],
};

/** The service's id field of each collection, in the event vocabulary. */
export const ID_FIELD: Record<SyncedCollection, string> = {
  users: 'externalId',
  subscriptions: 'subscriptionId',
  invoices: 'invoiceId',
  messages: 'messageId',
};

/**
 * One change to apply: the record's fields as the service states them, and when. `removed`: the service deleted it
 * (its last fields may come along, or null).
 */
export interface SyncChange {
  externalId: string;
  fields: Record<string, unknown> | null;
  occurredAt: Date;
  removed?: boolean;
}

const isDeletion = (change: SyncChange) => change.removed === true || change.fields === null;

export interface SyncCounts {
  created: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** Records that could not be applied (a user whose e-mail belongs to another account here); logged by id. */
  skipped: number;
}

export const emptyCounts = (): SyncCounts => ({ created: 0, updated: 0, removed: 0, unchanged: 0, skipped: 0 });

export function addCounts(into: SyncCounts, more: SyncCounts): SyncCounts {
  for (const key of Object.keys(into) as Array<keyof SyncCounts>) into[key] += more[key];
  return into;
}

type Synced = User | Subscription | Invoice | SyncedMessage;

const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const int = (value: unknown): number | null => (Number.isSafeInteger(value) ? (value as number) : null);
const role = (value: unknown): OrgRole => (ORG_ROLES.includes(value as OrgRole) ? (value as OrgRole) : 'member');

/**
 * How a service's record becomes our row's fields. A field the record leaves out keeps its stored value (a partial
 * event is applied as sent, not as an erasure); a new row takes the defaults.
 */
const MAPPERS: Record<SyncedCollection, (fields: Record<string, unknown>) => Record<string, unknown>> = {
  users: (f) => ({ email: str(f.email)?.toLowerCase(), name: str(f.name), role: f.role === undefined ? undefined : role(f.role) }),
  subscriptions: (f) => ({ plan: str(f.plan), status: str(f.status) }),
  invoices: (f) => ({
    subscriptionExternalId: str(f.subscriptionId),
    amount: int(f.amount),
    currency: str(f.currency),
    status: str(f.status),
  }),
  messages: (f) => ({ recipient: str(f.recipient), channel: str(f.channel), status: str(f.status), reason: str(f.reason), subject: str(f.subject) }),
};

/** What a new row needs when the service's record does not say (a thin or partial first sighting). */
const DEFAULTS: Record<SyncedCollection, Record<string, unknown>> = {
  users: { name: '', role: 'member' },
  subscriptions: { plan: 'unknown', status: 'active' },
  invoices: { subscriptionExternalId: null, amount: null, currency: null, status: 'open' },
  messages: { recipient: '', channel: 'email', status: 'sent', reason: null, subject: null },
};

/**
 * Applies what a service says to our rows, for pull sync and webhook events alike: upsert by the service's id, mark
 * removed what it deleted, and never let an older change overwrite a newer one. "Older" compares the change's time
 * with `sourceUpdatedAt`, the time of the change that last wrote the row. Applying the same change twice writes
 * nothing, so no audit row either; every write goes through the entity path, so every real change is audited.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger('Reconciler');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
  ) {}

  /** Applies `changes` (in the current unit of work) and counts what happened. */
  async apply(collection: SyncedCollection, changes: SyncChange[]): Promise<SyncCounts> {
    const counts = emptyCounts();
    if (changes.length === 0) return counts;
    const manager = this.uow.manager;
    const orgId = this.context.requireOrgId();
    const existing = await this.load(manager, collection, orgId, changes);
    for (const change of changes) {
      const row = existing.get(change.externalId);
      const outcome = row ? await this.update(manager, collection, row, change) : await this.create(manager, collection, orgId, change, existing);
      counts[outcome] += 1;
    }
    return counts;
  }

  /**
   * Marks removed every row of `collection` the service no longer lists. `listedAt` is when the listing started: a
   * row written by a change after it (an event that raced the pull) is not in the listing, and stays.
   */
  async removeMissing(collection: SyncedCollection, present: Set<string>, listedAt: Date): Promise<number> {
    const manager = this.uow.manager;
    const orgId = this.context.requireOrgId();
    const rows: Synced[] =
      collection === 'users'
        ? await manager.find(User, { where: { orgId, source: 'user-service' } })
        : await manager.find(entityOf(collection), { where: { orgId, removedAt: IsNull(), sourceUpdatedAt: LessThan(listedAt) } });
    let removed = 0;
    for (const row of rows) {
      if (present.has(row.externalId!)) continue;
      if (row instanceof User && (row.status === 'deactivated' || (row.sourceUpdatedAt && row.sourceUpdatedAt >= listedAt))) continue;
      await this.markRemoved(manager, row, null);
      removed += 1;
    }
    return removed;
  }

  private async load(manager: EntityManager, collection: SyncedCollection, orgId: string, changes: SyncChange[]): Promise<Map<string, Synced>> {
    const ids = [...new Set(changes.map((change) => change.externalId))];
    // Locked: two changes of one record applied at once (two events, an event and a pull) are applied one after the
    // other, each seeing what the other wrote, so the newer one wins whatever the order of their commits.
    const lock = { mode: 'pessimistic_write' as const };
    const rows: Synced[] =
      collection === 'users'
        ? await manager.find(User, { where: { orgId, source: 'user-service', externalId: In(ids) }, lock })
        : await manager.find(entityOf(collection), { where: { orgId, externalId: In(ids) }, lock });
    return new Map(rows.map((row) => [row.externalId!, row]));
  }

  private async update(manager: EntityManager, collection: SyncedCollection, row: Synced, change: SyncChange): Promise<keyof SyncCounts> {
    if (row.sourceUpdatedAt && change.occurredAt <= row.sourceUpdatedAt) return 'unchanged';
    if (isDeletion(change)) {
      if (isRemoved(row)) {
        // Still gone; the time moves on so that an older change cannot bring it back.
        row.sourceUpdatedAt = change.occurredAt;
        await manager.save(row);
        return 'unchanged';
      }
      await this.markRemoved(manager, row, change.occurredAt);
      return 'removed';
    }
    if (row instanceof User && row.status === 'deactivated') {
      // Deactivated here (by an admin, or because the service deleted it): a later change at the service does not
      // bring the account back. Its time is kept, so an older change still cannot overwrite what was applied.
      row.sourceUpdatedAt = change.occurredAt;
      await manager.save(row);
      return 'unchanged';
    }
    const values = defined(MAPPERS[collection](change.fields!));
    const changed = Object.entries(values).some(([field, value]) => (row as unknown as Record<string, unknown>)[field] !== value);
    const restored = !(row instanceof User) && row.removedAt !== null;
    Object.assign(row, values, { sourceUpdatedAt: change.occurredAt });
    if (restored) (row as Subscription).removedAt = null;
    await manager.save(row);
    return changed || restored ? 'updated' : 'unchanged';
  }

  private async create(
    manager: EntityManager,
    collection: SyncedCollection,
    orgId: string,
    change: SyncChange,
    existing: Map<string, Synced>,
  ): Promise<keyof SyncCounts> {
    // A deletion of something we never had is kept as a removed row (a tombstone) when it says what the record was:
    // an older creation that arrives after it then finds a newer change, and does not bring the record back.
    if (change.fields === null) return 'unchanged';
    const deletion = isDeletion(change);
    const values = { ...DEFAULTS[collection], ...defined(MAPPERS[collection](change.fields)) };
    if (collection === 'users') return this.createUser(manager, orgId, change, deletion ? { ...values, status: 'deactivated' } : values, existing);
    const row = manager.create(entityOf(collection), {
      ...values,
      orgId,
      externalId: change.externalId,
      sourceUpdatedAt: change.occurredAt,
      removedAt: deletion ? new Date() : null,
    });
    existing.set(change.externalId, await manager.save(row));
    return deletion ? 'removed' : 'created';
  }

  /** A user the service knows: adopted when a local account has the same e-mail and no service id, else created pending. */
  private async createUser(
    manager: EntityManager,
    orgId: string,
    change: SyncChange,
    values: Record<string, unknown>,
    existing: Map<string, Synced>,
  ): Promise<keyof SyncCounts> {
    const email = values.email as string | undefined;
    if (!email) return 'skipped';
    const holder = await manager
      .createQueryBuilder(User, 'user')
      .where('user.orgId = :orgId and lower(user.email) = :email', { orgId, email })
      .getOne();
    if (holder && (holder.externalId !== null || holder.status === 'deactivated')) {
      this.logger.warn({ event: 'sync.skipped', reason: 'email_taken', collection: 'users', externalId: change.externalId, userId: holder.id });
      return 'skipped';
    }
    const deletion = values.status === 'deactivated';
    if (holder && deletion) return 'unchanged';
    const user = holder ?? manager.create(User, { orgId, status: 'pending', passwordHash: null, tokenVersion: 0 });
    Object.assign(user, values, { source: 'user-service', externalId: change.externalId, sourceUpdatedAt: change.occurredAt });
    existing.set(change.externalId, await manager.save(user));
    return deletion ? 'removed' : holder ? 'updated' : 'created';
  }

  private async markRemoved(manager: EntityManager, row: Synced, occurredAt: Date | null): Promise<void> {
    if (row instanceof User) {
      // Its tokens go with it, as with a deactivation by an admin.
      row.status = 'deactivated';
      row.tokenVersion += 1;
    } else row.removedAt = new Date();
    if (occurredAt) row.sourceUpdatedAt = occurredAt;
    await manager.save(row);
  }
}

function entityOf(collection: Exclude<SyncedCollection, 'users'>): typeof Subscription | typeof Invoice | typeof SyncedMessage {
  return collection === 'subscriptions' ? Subscription : collection === 'invoices' ? Invoice : SyncedMessage;
}

function isRemoved(row: Synced): boolean {
  return row instanceof User ? row.status === 'deactivated' : row.removedAt !== null;
}

/** Only the fields the record states (undefined and null from a missing field are left out). */
function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== null));
}

/** A pull's records as changes: each record's `updatedAt` is the time of its last change. */
export function recordsAsChanges(collection: SyncedCollection, records: ServiceRecord[]): SyncChange[] {
  return records
    .filter((record) => typeof record[ID_FIELD[collection]] === 'string' && !Number.isNaN(Date.parse(record.updatedAt)))
    .map((record) => ({ externalId: record[ID_FIELD[collection]] as string, fields: record, occurredAt: new Date(record.updatedAt) }));
}
