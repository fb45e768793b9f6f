import { Injectable } from '@nestjs/common';
import { CommonError, CommonErrorCode, TenantContext, UnitOfWork } from '@tenantry/core';
import { AuditLogDto, AuditLogPageDto, AuditVerificationDto, ListAuditLogsQueryDto } from './dto/audit-log.dto';

/** `total` counts this many matching rows at most: an exact count over a million rows would cost more than the page. */
export const AUDIT_COUNT_BOUND = 10_000;
const VERIFY_PAGE = 1000;

interface AuditRow {
  id: string;
  action: AuditLogDto['action'];
  entity_type: string;
  entity_id: string;
  actor_type: string;
  actor_id: string | null;
  changes: AuditLogDto['changes'];
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
}

/** Reads the organization's audit trail (RLS scopes every query to it) and verifies its hash chain. */
@Injectable()
export class AuditLogsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
  ) {}

  async list(query: ListAuditLogsQueryDto): Promise<AuditLogPageDto> {
    const orgId = this.context.requireOrgId();
    const values: unknown[] = [orgId];
    const where = ['org_id = $1'];
    if (query.entityType) where.push(`entity_type = $${values.push(query.entityType)}`);
    if (query.entityId) where.push(`entity_id = $${values.push(query.entityId)}`);
    if (query.action) where.push(`action = $${values.push(query.action)}`);
    if (query.actorId) where.push(`actor_id = $${values.push(query.actorId)}`);
    if (query.from) where.push(`created_at >= $${values.push(query.from)}`);
    if (query.to) where.push(`created_at < $${values.push(query.to)}`);
    const conditions = where.join(' and ');
    return this.uow.run(async () => {
      // An entity of another organization is not found, like one that does not exist.
      if (query.entityId) {
        const [known] = await this.uow.query<{ known: boolean }>(
          `select exists (select 1 from audit_logs where org_id = $1 and entity_id = $2) as known`,
          [orgId, query.entityId],
        );
        if (!known.known) throw new CommonError(CommonErrorCode.NotFound, 'No such entity in this organization');
      }
      const rows = await this.uow.query<AuditRow>(
        `select id, action, entity_type, entity_id, actor_type, actor_id, changes, request_id, ip, user_agent, created_at
           from audit_logs where ${conditions}
          order by created_at desc, seq desc
          limit $${values.length + 1} offset $${values.length + 2}`,
        [...values, query.limit, query.offset],
      );
      const [{ total }] = await this.uow.query<{ total: number }>(
        `select count(*)::int as total from (select 1 from audit_logs where ${conditions} limit ${AUDIT_COUNT_BOUND + 1}) as bounded`,
        values,
      );
      return {
        data: rows.map(toDto),
        meta: { page: query.page, limit: query.limit, total: Math.min(total, AUDIT_COUNT_BOUND), totalCapped: total > AUDIT_COUNT_BOUND },
      };
    });
  }

  /**
   * Walks the organization's chain in order, a page at a time: each row must point at the hash of the one before,
   * and its own hash must be sha256(prev_hash || canonical row) as PostgreSQL recomputes it now.
   */
  async verify(): Promise<AuditVerificationDto> {
    const orgId = this.context.requireOrgId();
    return this.uow.run(async () => {
      let checked = 0;
      let lastSeq = '0';
      // After a retention purge the first remaining row points at the last purged one, whose hash is the anchor.
      const [anchor] = await this.uow.query<{ anchor_hash: Buffer }>(`select anchor_hash from audit_anchors where org_id = $1`, [orgId]);
      let previous: Buffer | null = anchor?.anchor_hash ?? null;
      for (;;) {
        const rows = await this.uow.query<{ id: string; seq: string; prev_hash: Buffer | null; hash: Buffer; expected: Buffer }>(
          `select id, seq, prev_hash, hash,
                  sha256(coalesce(prev_hash, ''::bytea) || audit_canonical(id, org_id, action, entity_type, entity_id,
                    actor_type, actor_id, changes, request_id, ip, user_agent, created_at)) as expected
             from audit_logs where org_id = $1 and seq > $2 order by seq limit ${VERIFY_PAGE}`,
          [orgId, lastSeq],
        );
        for (const row of rows) {
          const linked = previous === null ? row.prev_hash === null : row.prev_hash !== null && row.prev_hash.equals(previous);
          if (!linked || !row.hash.equals(row.expected)) return { valid: false, checked: checked + 1, firstBrokenId: row.id };
          checked += 1;
          previous = row.hash;
          lastSeq = row.seq;
        }
        if (rows.length < VERIFY_PAGE) return { valid: true, checked, firstBrokenId: null };
      }
    });
  }
}

function toDto(row: AuditRow): AuditLogDto {
  return {
    id: row.id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    actor: { type: row.actor_type, id: row.actor_id },
    changes: row.changes,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at.toISOString(),
  };
}
