import { Injectable, Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { PasswordHasher, TOKEN_STATE_SQL, TenantContext, TokenState, TokenStateRow, UnitOfWork, asOrgId, toTokenState } from '@tenantry/core';
import { OrganizationDirectory, PlatformAdminsRepository } from '@tenantry/tenancy';
import { UsersRepository } from '@tenantry/users';
import { AuthError } from './auth.errors';
import { LoginDto, MeDto, RefreshTokenDto } from './dto/login.dto';
import { AccessTokenClaims, Principal } from './principal';
import { TokenStateCache } from './token-state.cache';
import { CurrentSubjectLoader, TokenPair, TokenService } from './token.service';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly directory: OrganizationDirectory,
    private readonly platformAdmins: PlatformAdminsRepository,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly tokenStates: TokenStateCache,
  ) {}

  /**
   * Every mismatch (unknown organization or e-mail, wrong password, deactivated user or organization) ends in the
   * same error after the same amount of work: a password hash is verified in every case.
   */
  async login(input: LoginDto): Promise<TokenPair> {
    if (!input.organization) {
      const admin = await this.platformAdmins.findWithPasswordByEmail(input.email);
      const valid = await this.hasher.verify(admin?.passwordHash, input.password);
      if (!admin || !valid || admin.status !== 'active') throw AuthError.invalidCredentials();
      return this.tokens.issue({ id: admin.id, orgId: null, role: 'superadmin', tokenVersion: admin.tokenVersion });
    }
    const org = await this.directory.resolve(input.organization);
    const user = org ? await this.uow.inTenant(org.id, () => this.users.findWithPasswordByEmail(org.id, input.email)) : null;
    const valid = await this.hasher.verify(user?.passwordHash, input.password);
    if (!org || !user || !valid || org.status !== 'active' || user.status !== 'active') throw AuthError.invalidCredentials();
    return this.tokens.issue({ id: user.id, orgId: org.id, role: user.role, tokenVersion: user.tokenVersion });
  }

  /** Rotates a refresh token. Every refusal is the same 401, whatever the reason (logged for reuse). */
  async refresh(input: RefreshTokenDto): Promise<TokenPair> {
    const result = await this.tokens.rotate(input.refreshToken, this.currentSubject);
    if ('refused' in result) throw AuthError.invalidRefreshToken();
    return result.pair;
  }

  /** Revokes the caller's own refresh token family; someone else's token is left alone, with the same answer. */
  async logout(input: RefreshTokenDto): Promise<void> {
    const actor = this.context.actor;
    if (!actor.id) throw AuthError.invalidToken();
    const revoked = await this.tokens.revoke(input.refreshToken, { id: actor.id, orgId: this.context.orgId });
    this.logger.log({ event: 'auth.logout', actorId: actor.id, revoked });
  }

  /** Who a refresh token family belongs to as of now: an inactive user or organization gets no new tokens. */
  private readonly currentSubject: CurrentSubjectLoader = async (scope, subjectId) => {
    const orgId = scope.kind === 'platform' ? null : scope.orgId;
    const state = toTokenState((await this.uow.query<TokenStateRow>(TOKEN_STATE_SQL, [orgId, subjectId]))[0]);
    if (!state || state.status !== 'active' || state.orgStatus !== 'active') return null;
    return { id: subjectId, orgId, role: state.role, tokenVersion: state.tokenVersion };
  };

  /**
   * Called for every authenticated request with the verified claims. The user's and organization's current state
   * decide, not the token's: a deactivated user or organization, or a bumped token version, is refused at once, and
   * the role is the one stored now. The state comes from this process's cache when it holds it (no round trip); the
   * request's first transaction then confirms it in the statement that binds the tenant.
   */
  async authenticate(claims: AccessTokenClaims): Promise<Principal> {
    const orgId = claims.role === 'superadmin' ? null : claims.org;
    if (claims.role !== 'superadmin' && !claims.org) throw AuthError.invalidToken();
    if (!isUUID(claims.sub) || (orgId !== null && !isUUID(orgId))) throw AuthError.invalidToken();
    const cached = this.tokenStates.cached(orgId, claims.sub);
    const state = cached ?? (await this.tokenStates.load(orgId, claims.sub));
    if (!admits(state, claims)) throw AuthError.invalidToken();
    if (cached) {
      this.context.expectTokenConfirmation({
        orgId,
        subject: claims.sub,
        confirm: (current) => {
          if (admits(current, claims) && current.role === state.role) return;
          this.tokenStates.invalidate();
          throw AuthError.invalidToken();
        },
      });
    }
    this.context.setPrincipal(orgId === null ? null : asOrgId(orgId), { type: 'user', id: claims.sub, role: state.role });
    return { userId: claims.sub, orgId, role: state.role, tokenId: claims.jti };
  }

  async me(): Promise<MeDto> {
    const actor = this.context.actor;
    if (!actor.id) throw AuthError.invalidToken();
    if (actor.role === 'superadmin') {
      const admin = await this.platformAdmins.findById(actor.id);
      if (!admin) throw AuthError.invalidToken();
      return { id: admin.id, email: admin.email, name: admin.name, role: 'superadmin', organization: null };
    }
    const orgId = this.context.requireOrgId();
    const me = await this.uow.run(() => this.users.findWithOrganization(orgId, actor.id!));
    if (!me) throw AuthError.invalidToken();
    return me;
  }
}

/** Whether the stored state still admits a token with these claims. */
function admits(state: TokenState | null, claims: AccessTokenClaims): state is TokenState {
  return (
    state !== null &&
    state.status === 'active' &&
    state.orgStatus === 'active' &&
    state.tokenVersion === claims.ver &&
    (claims.role === 'superadmin') === (state.role === 'superadmin')
  );
}
