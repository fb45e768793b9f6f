import { Audited } from '@tenantry/audit';
import { OrgRole } from '@tenantry/core';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const USER_STATUSES = ['active', 'pending', 'deactivated'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const USER_SOURCES = ['local', 'sso', 'user-service'] as const;
export type UserSource = (typeof USER_SOURCES)[number];

@Entity('users')
@Audited<User>({
  entityType: 'user',
  orgOf: (user) => user.orgId,
  redact: ['passwordHash'],
  // tokenVersion moves with every revocation: the row says what caused it (status, role, password).
  ignore: ['updatedAt', 'tokenVersion', 'sourceUpdatedAt'],
  deletedWhen: (user, before) => user.status === 'deactivated' && before.status !== 'deactivated',
})
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'org_id', type: 'uuid' }) orgId: string;
  @Column({ type: 'text' }) email: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) role: OrgRole;
  @Column({ type: 'text', default: 'active' }) status: UserStatus;
  /** Never selected unless asked for by name: no serializer can leak what it never loaded. */
  @Column({ name: 'password_hash', type: 'text', nullable: true, select: false }) passwordHash: string | null;
  @Column({ type: 'text', default: 'local' }) source: UserSource;
  @Column({ name: 'external_id', type: 'text', nullable: true }) externalId: string | null;
  @Column({ name: 'token_version', type: 'int', default: 0 }) tokenVersion: number;
  /** For a synced user: when the change that last wrote it happened (at the service, or here for a local edit). */
  @Column({ name: 'source_updated_at', type: 'timestamptz', nullable: true }) sourceUpdatedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
