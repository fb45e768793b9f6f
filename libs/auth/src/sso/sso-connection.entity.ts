import { Audited } from '@tenantry/audit';
import { OrgRole } from '@tenantry/core';
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const SSO_PROVIDERS = ['azure-ad', 'okta', 'oidc'] as const;
export type SsoProvider = (typeof SSO_PROVIDERS)[number];

/** An organization's OpenID Connect connection; the audit row of a change says the secret changed, never what it is. */
@Entity('sso_connections')
@Audited<SsoConnection>({ entityType: 'sso_connection', orgOf: (row) => row.orgId, redact: ['clientSecret'], ignore: ['createdAt', 'updatedAt'] })
export class SsoConnection {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId: string;
  @Column({ type: 'uuid' }) id: string;
  @Column({ type: 'text' }) provider: SsoProvider;
  @Column({ type: 'text' }) issuer: string;
  @Column({ name: 'client_id', type: 'text' }) clientId: string;
  /** Sealed with SecretBox, bound to the organization. */
  @Column({ name: 'client_secret', type: 'bytea' }) clientSecret: Buffer;
  @Column({ name: 'default_role', type: 'text' }) defaultRole: OrgRole;
  @Column({ name: 'group_roles', type: 'jsonb' }) groupRoles: Record<string, OrgRole>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export const clientSecretContext = (orgId: string) => `oidc-client-secret:${orgId}`;
