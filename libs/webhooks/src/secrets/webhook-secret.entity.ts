import { Audited } from '@tenantry/audit';
import type { IntegrationProvider } from '@tenantry/core';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An organization's signing secret for one provider, and the one it replaced while that one's grace lasts. Both are
 * sealed with SecretBox (bound to the organization and provider); the audit row of a rotation says that they changed,
 * never what they are.
 */
@Entity('webhook_secrets')
@Audited<WebhookSecret>({
  entityType: 'webhook_secret',
  orgOf: (row) => row.orgId,
  redact: ['secret', 'previousSecret'],
  ignore: ['createdAt'],
})
export class WebhookSecret {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId: string;
  @PrimaryColumn({ type: 'text' }) provider: IntegrationProvider;
  /** What audit rows point at (the key is the pair above). */
  @Column({ type: 'uuid' }) id: string;
  @Column({ type: 'bytea' }) secret: Buffer;
  @Column({ name: 'previous_secret', type: 'bytea', nullable: true }) previousSecret: Buffer | null;
  @Column({ name: 'previous_valid_until', type: 'timestamptz', nullable: true }) previousValidUntil: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'rotated_at', type: 'timestamptz' }) rotatedAt: Date;
}
