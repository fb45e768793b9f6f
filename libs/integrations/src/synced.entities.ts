import { Audited } from '@tenantry/audit';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

const BOOKKEEPING = ['updatedAt', 'sourceUpdatedAt'] as const;

/** Columns every synced record has: the service's id, when its last change happened, and whether it is gone. */
abstract class SyncedRecord {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'org_id', type: 'uuid' }) orgId: string;
  @Column({ name: 'external_id', type: 'text' }) externalId: string;
  @Column({ name: 'source_updated_at', type: 'timestamptz' }) sourceUpdatedAt: Date;
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true }) removedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

const removal = (record: SyncedRecord, before: SyncedRecord) => record.removedAt !== null && before.removedAt === null;

@Entity('subscriptions')
@Audited<Subscription>({ entityType: 'subscription', orgOf: (s) => s.orgId, ignore: [...BOOKKEEPING], deletedWhen: removal })
export class Subscription extends SyncedRecord {
  @Column({ type: 'text' }) plan: string;
  @Column({ type: 'text' }) status: string;
}

@Entity('invoices')
@Audited<Invoice>({ entityType: 'invoice', orgOf: (i) => i.orgId, ignore: [...BOOKKEEPING], deletedWhen: removal })
export class Invoice extends SyncedRecord {
  @Column({ name: 'subscription_external_id', type: 'text', nullable: true }) subscriptionExternalId: string | null;
  /** In the currency's minor unit (cents). */
  @Column({ type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  amount: number | null;
  @Column({ type: 'text', nullable: true }) currency: string | null;
  @Column({ type: 'text' }) status: string;
}

@Entity('messages')
@Audited<SyncedMessage>({ entityType: 'message', orgOf: (m) => m.orgId, ignore: [...BOOKKEEPING], deletedWhen: removal })
export class SyncedMessage extends SyncedRecord {
  @Column({ type: 'text' }) recipient: string;
  @Column({ type: 'text' }) channel: string;
  @Column({ type: 'text' }) status: string;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'text', nullable: true }) subject: string | null;
}
