import { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT_SQL, PLATFORM_MODE_SQL, appRoleFromEnv, quoteIdent } from '../rls';

/**
 * The audit trail: append-only, under RLS, and chained per organization.
 * - The app role may INSERT and SELECT, nothing else; a trigger refuses UPDATE and DELETE from anyone, the owner too.
 * - Rows are written only through `audit_append(org, rows)`, which serializes the organization's writers with an
 *   advisory transaction lock, reads the last hash and chains each new row to it:
 *   hash = sha256(prev_hash || canonical row), the canonical row being the jsonb text of its fields (jsonb orders its
 *   keys, so the text is the same whoever computes it). The first row of an organization has no prev_hash.
 * - A whole batch (every change of one transaction) goes in one call: one round trip per audited transaction.
 */
export class AuditLogs1732580000000 implements MigrationInterface {
  name = 'AuditLogs1732580000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const role = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create table audit_logs (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        seq bigserial not null,
        action text not null check (action in ('create', 'update', 'delete')),
        entity_type text not null,
        entity_id text not null,
        actor_type text not null check (actor_type in ('user', 'system', 'integration', 'anonymous')),
        actor_id uuid,
        changes jsonb not null,
        request_id text,
        ip text,
        user_agent text,
        created_at timestamptz not null default now(),
        prev_hash bytea,
        hash bytea not null
      )`);
    await queryRunner.query(`create unique index audit_logs_org_seq_key on audit_logs (org_id, seq)`);
    await queryRunner.query(`create index audit_logs_org_created_idx on audit_logs (org_id, created_at desc, seq desc)`);
    await queryRunner.query(`create index audit_logs_org_entity_idx on audit_logs (org_id, entity_type, entity_id)`);
    await queryRunner.query(`alter table audit_logs enable row level security`);
    await queryRunner.query(`alter table audit_logs force row level security`);
    // The platform path writes an organization's own rows (its creation) before any tenant is bound.
    await queryRunner.query(
      `create policy tenant_or_platform on audit_logs using (org_id = ${CURRENT_TENANT_SQL} or ${PLATFORM_MODE_SQL})
         with check (org_id = ${CURRENT_TENANT_SQL} or ${PLATFORM_MODE_SQL})`,
    );
    await queryRunner.query(`grant select, insert on audit_logs to ${role}`);
    await queryRunner.query(`grant usage on sequence audit_logs_seq_seq to ${role}`);

    // Where a retention purge leaves an organization's chain: the hash of the last row it removed, which the first
    // remaining row points at. Verify starts from it.
    await queryRunner.query(`
      create table audit_anchors (
        org_id uuid primary key references organizations (id),
        anchor_hash bytea not null,
        purged_rows bigint not null,
        purged_before timestamptz not null,
        purged_at timestamptz not null default now()
      )`);
    await queryRunner.query(`alter table audit_anchors enable row level security`);
    await queryRunner.query(`alter table audit_anchors force row level security`);
    await queryRunner.query(`create policy tenant_reads on audit_anchors for select using (org_id = ${CURRENT_TENANT_SQL})`);
    await queryRunner.query(`grant select on audit_anchors to ${role}`);

    // DELETE is refused, except inside audit_purge_before(), which says so with a transaction-local setting.
    await queryRunner.query(`
      create function audit_logs_append_only() returns trigger
      language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('tenantry.audit_purge', true) = 'on' then
          return old;
        end if;
        raise exception 'audit_logs is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end $$`);
    // Retention, off by default: nothing calls it, and only the owner may (the app role may not execute it). It
    // removes an organization's rows created before a point in time, oldest first, and records the anchor.
    await queryRunner.query(`
      create function audit_purge_before(p_org uuid, p_before timestamptz) returns bigint
      language plpgsql as $$
      declare
        v_last_seq bigint;
        v_anchor bytea;
        v_count bigint;
      begin
        perform pg_advisory_xact_lock(hashtextextended('tenantry:audit:' || p_org::text, 0));
        select seq, hash into v_last_seq, v_anchor from audit_logs
         where org_id = p_org and created_at < p_before order by seq desc limit 1;
        if v_last_seq is null then
          return 0;
        end if;
        perform set_config('tenantry.audit_purge', 'on', true);
        delete from audit_logs where org_id = p_org and seq <= v_last_seq;
        get diagnostics v_count = row_count;
        perform set_config('tenantry.audit_purge', 'off', true);
        insert into audit_anchors (org_id, anchor_hash, purged_rows, purged_before)
        values (p_org, v_anchor, v_count, p_before)
        on conflict (org_id) do update set anchor_hash = excluded.anchor_hash,
          purged_rows = audit_anchors.purged_rows + excluded.purged_rows, purged_before = excluded.purged_before,
          purged_at = now();
        return v_count;
      end $$`);
    await queryRunner.query(`revoke all on function audit_purge_before(uuid, timestamptz) from public`);
    await queryRunner.query(`
      create trigger audit_logs_append_only before update or delete on audit_logs
      for each row execute function audit_logs_append_only()`);
    await queryRunner.query(`
      create trigger audit_logs_no_truncate before truncate on audit_logs
      for each statement execute function audit_logs_append_only()`);

    // The canonical text of a row, which its hash covers: written once here, used by audit_append and by verify.
    await queryRunner.query(`
      create function audit_canonical(p_id uuid, p_org uuid, p_action text, p_entity_type text, p_entity_id text,
                                      p_actor_type text, p_actor_id uuid, p_changes jsonb, p_request_id text,
                                      p_ip text, p_user_agent text, p_created_at timestamptz)
      returns bytea language sql immutable as $$
        select convert_to(jsonb_build_object(
          'id', p_id, 'orgId', p_org, 'action', p_action, 'entityType', p_entity_type, 'entityId', p_entity_id,
          'actorType', p_actor_type, 'actorId', p_actor_id, 'changes', p_changes, 'requestId', p_request_id,
          'ip', p_ip, 'userAgent', p_user_agent,
          'createdAt', to_char(p_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')
      $$`);
    await queryRunner.query(`grant execute on function audit_canonical(uuid, uuid, text, text, text, text, uuid, jsonb, text, text, text, timestamptz) to ${role}`);

    await queryRunner.query(`
      create function audit_append(p_org uuid, p_rows jsonb) returns integer
      language plpgsql as $$
      declare
        v_prev bytea;
        v_row jsonb;
        v_id uuid;
        v_actor uuid;
        v_at timestamptz := now();
        v_hash bytea;
        v_count integer := 0;
      begin
        perform pg_advisory_xact_lock(hashtextextended('tenantry:audit:' || p_org::text, 0));
        select hash into v_prev from audit_logs where org_id = p_org order by seq desc limit 1;
        for v_row in select value from jsonb_array_elements(p_rows) loop
          v_id := gen_random_uuid();
          v_actor := (v_row->>'actorId')::uuid;
          v_hash := sha256(coalesce(v_prev, ''::bytea) || audit_canonical(v_id, p_org, v_row->>'action',
            v_row->>'entityType', v_row->>'entityId', v_row->>'actorType', v_actor, v_row->'changes',
            v_row->>'requestId', v_row->>'ip', v_row->>'userAgent', v_at));
          insert into audit_logs (id, org_id, action, entity_type, entity_id, actor_type, actor_id, changes, request_id,
                                  ip, user_agent, created_at, prev_hash, hash)
          values (v_id, p_org, v_row->>'action', v_row->>'entityType', v_row->>'entityId', v_row->>'actorType',
                  v_actor, v_row->'changes', v_row->>'requestId', v_row->>'ip', v_row->>'userAgent', v_at, v_prev, v_hash);
          v_prev := v_hash;
          v_count := v_count + 1;
        end loop;
        return v_count;
      end $$`);
    await queryRunner.query(`revoke all on function audit_append(uuid, jsonb) from public`);
    await queryRunner.query(`grant execute on function audit_append(uuid, jsonb) to ${role}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function audit_append(uuid, jsonb)`);
    await queryRunner.query(`drop function audit_canonical(uuid, uuid, text, text, text, text, uuid, jsonb, text, text, text, timestamptz)`);
    await queryRunner.query(`drop function audit_purge_before(uuid, timestamptz)`);
    await queryRunner.query(`drop table audit_anchors`);
    await queryRunner.query(`drop table audit_logs`);
    await queryRunner.query(`drop function audit_logs_append_only()`);
  }
}
