import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig, PasswordHasher, TenantContext, UnitOfWork, asOrgId } from '@tenantry/core';
import { UserError, UsersRepository } from '@tenantry/users';
import { TokenPair, TokenService } from '../token.service';
import { AcceptInvitationDto, InvitationDto } from './dto/invitation.dto';
import { InvitationError } from './invitation.errors';
import { InvitationOutbox } from './invitation-outbox';
import { mintInvitationToken, parseInvitationToken, sealInvitationToken } from './invitation-token';

/**
 * Inviting a pending user (an admin's request) and accepting an invitation (the invited user, before they can log
 * in). The invitation is written in the request's transaction and its message queued after the commit; the worker
 * sends it (InvitationDelivery).
 */
@Injectable()
export class InvitationsService {
  private readonly logger = new Logger('Invitations');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly outbox: InvitationOutbox,
  ) {}

  /** A new invitation for a pending user of the caller's organization; it replaces any earlier one. */
  async invite(userId: string): Promise<InvitationDto> {
    const orgId = this.context.orgId;
    if (!orgId) throw UserError.forbidden('Users belong to an organization; this account belongs to none');
    const id = randomUUID();
    const { token, hash } = mintInvitationToken();
    const sealed = sealInvitationToken(this.config.encryptionKey, id, token);
    const expiresAt = await this.uow.run(async () => {
      const user = await this.users.findByIdForUpdate(orgId, userId);
      if (!user) throw UserError.notFound();
      if (user.status !== 'pending') throw InvitationError.userNotPending(user.status);
      await this.uow.query(
        `update invitations set replaced_at = now(), token_ciphertext = null
          where org_id = $1 and user_id = $2 and used_at is null and replaced_at is null`,
        [orgId, userId],
      );
      const [row] = await this.uow.query<{ expires_at: Date }>(
        `insert into invitations (id, org_id, user_id, token_hash, token_ciphertext, expires_at, enqueued_at)
         values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), now())
         returning expires_at`,
        [id, orgId, userId, hash, sealed, this.config.invitationTtlSeconds],
      );
      return row.expires_at;
    });
    // After the commit: a job must never name an invitation that a rollback took back. If this fails, the relay queues it.
    const queued = await this.outbox.enqueue(orgId, id, this.context.envelope());
    this.logger.log({ event: 'invitation.created', invitationId: id, userId, queued, actorId: this.context.actor.id });
    return { id, userId, expiresAt: new Date(expiresAt).toISOString(), delivery: 'queued' };
  }

  /**
   * Spends the invitation, activates its user with the chosen password and logs them in, in one transaction. Every
   * refusal (unknown, malformed, spent, expired, replaced, user no longer pending, organization inactive) is the same 401.
   */
  async accept(input: AcceptInvitationDto): Promise<TokenPair> {
    const hash = parseInvitationToken(input.token);
    if (!hash) throw InvitationError.invalid();
    const [found] = await this.uow.query<{ org_id: string; id: string }>('select org_id, id from invitation_by_token($1)', [hash]);
    if (!found) throw InvitationError.invalid();
    const orgId = asOrgId(found.org_id);
    // Hashing is the slow part: done before the transaction, so no lock waits on it.
    const passwordHash = await this.hasher.hash(input.password);
    const pair = await this.uow.inTenant(orgId, async () => {
      const [invitation] = await this.uow.query<{ user_id: string; live: boolean; org_active: boolean }>(
        `select i.user_id, (i.used_at is null and i.replaced_at is null and i.expires_at > now()) as live, o.status = 'active' as org_active
           from invitations i join organizations o on o.id = i.org_id
          where i.org_id = $1 and i.id = $2
            for update of i`,
        [orgId, found.id],
      );
      if (!invitation?.live || !invitation.org_active) throw InvitationError.invalid();
      const user = await this.users.findByIdForUpdate(orgId, invitation.user_id);
      if (!user || user.status !== 'pending') throw InvitationError.invalid();
      // The user activates their own account: the audit trail names them as the actor.
      this.context.setPrincipal(orgId, { type: 'user', id: user.id, role: user.role });
      await this.uow.query(`update invitations set used_at = now(), token_ciphertext = null where org_id = $1 and id = $2`, [orgId, found.id]);
      user.passwordHash = passwordHash;
      user.status = 'active';
      const saved = await this.users.update(orgId, user);
      return this.tokens.issue({ id: saved.id, orgId, role: saved.role, tokenVersion: saved.tokenVersion });
    });
    this.logger.log({ event: 'invitation.accepted', invitationId: found.id, orgId });
    return pair;
  }
}
