import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppConfig, TenantContext, TenantTransaction } from '@tenantry/core';
import { DataSource, EntitySubscriberInterface, InsertEvent, ObjectLiteral, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { AuditOptions, REDACTED, auditOptionsOf } from './audited';

type Changes = Record<string, { from: unknown; to: unknown }>;

interface AuditRow {
  action: 'create' | 'update' | 'delete';
  entityType: string;
  entityId: string;
  actorType: string;
  actorId: string | null;
  changes: Changes;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export class AuditOutsideUnitOfWorkError extends Error {
  constructor(entityType: string) {
    super(`An audited ${entityType} was written outside a unit of work: it would have no audit row`);
  }
}

/**
 * Writes the audit trail from TypeORM's entity events. Each change becomes a row with its field diff, who made it
 * (the tenant context's actor) and from where (request id, IP, user agent). The rows of one transaction are written
 * by one `audit_append` call per organization just before that transaction commits, in it: a rolled-back change
 * leaves no row, and a row that cannot be written rolls the change back.
 */
@Injectable()
export class AuditSubscriber implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<TenantTransaction, Map<string, AuditRow[]>>();

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly context: TenantContext,
    config: AppConfig,
  ) {
    if (config.auditTrail) dataSource.subscribers.push(this);
  }

  afterInsert(event: InsertEvent<ObjectLiteral>): void {
    const options = auditOptionsOf(event.metadata.target);
    if (!options) return;
    const changes: Changes = {};
    for (const column of event.metadata.columns) {
      const field = column.propertyName;
      if (options.ignore?.includes(field)) continue;
      const value = column.getEntityValue(event.entity);
      if (value === undefined) continue;
      changes[field] = { from: null, to: shown(options, field, value) };
    }
    this.record(options, event.entity, 'create', changes);
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>): void {
    const options = auditOptionsOf(event.metadata.target);
    if (!options || !event.entity) return;
    const before = event.databaseEntity ?? {};
    const changes: Changes = {};
    for (const column of event.updatedColumns) {
      const field = column.propertyName;
      if (options.ignore?.includes(field)) continue;
      // A redacted field says only that it changed: its old value may not even have been loaded (select: false).
      changes[field] = options.redact?.includes(field)
        ? { from: REDACTED, to: REDACTED }
        : { from: shown(options, field, column.getEntityValue(before)), to: shown(options, field, column.getEntityValue(event.entity)) };
    }
    if (Object.keys(changes).length === 0) return;
    const deleted = options.deletedWhen?.(event.entity, before as ObjectLiteral) ?? false;
    this.record(options, { ...before, ...event.entity }, deleted ? 'delete' : 'update', changes);
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): void {
    this.removed(event.metadata.target, event.databaseEntity ?? event.entity, event.entityId);
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): void {
    this.removed(event.metadata.target, event.databaseEntity ?? event.entity, event.entityId);
  }

  private removed(target: unknown, entity: ObjectLiteral | undefined, entityId: unknown): void {
    const options = auditOptionsOf(target);
    if (!options || !entity) return;
    this.record(options, { ...entity, id: entity.id ?? entityId }, 'delete', {});
  }

  private record(options: AuditOptions, entity: ObjectLiteral, action: AuditRow['action'], changes: Changes): void {
    const tx = this.context.transaction;
    if (!tx) throw new AuditOutsideUnitOfWorkError(options.entityType);
    let byOrg = this.pending.get(tx);
    if (!byOrg) {
      byOrg = new Map();
      this.pending.set(tx, byOrg);
      const rows = byOrg;
      tx.beforeCommit(async () => {
        for (const [orgId, batch] of rows) await tx.query('select audit_append($1, $2::jsonb)', [orgId, JSON.stringify(batch)]);
      });
    }
    const orgId = options.orgOf(entity);
    const actor = this.context.actor;
    const row: AuditRow = {
      action,
      entityType: options.entityType,
      entityId: String(entity.id),
      actorType: actor.type,
      actorId: actor.id,
      changes,
      requestId: this.context.requestId,
      ip: this.context.ip,
      userAgent: this.context.userAgent,
    };
    const batch = byOrg.get(orgId);
    if (batch) batch.push(row);
    else byOrg.set(orgId, [row]);
  }
}

function shown(options: AuditOptions, field: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (options.redact?.includes(field)) return REDACTED;
  return value instanceof Date ? value.toISOString() : value;
}
