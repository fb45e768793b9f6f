import { Injectable } from '@nestjs/common';
import { PasswordHasher, TenantContext, UnitOfWork, asOrgId } from '@tenantry/core';
import { OrganizationDirectory, OrganizationsService, PlatformAdminsRepository } from '@tenantry/tenancy';
import { UsersRepository } from '@tenantry/users';
import { AuthError } from './auth.errors';
import { LoginDto, MeDto } from './dto/login.dto';
import { AccessTokenClaims, Principal } from './principal';
import { TokenPair, TokenService } from './token.service';

@Injectable()
export class AuthService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly directory: OrganizationDirectory,
    private readonly organizations: OrganizationsService,
    private readonly platformAdmins: PlatformAdminsRepository,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
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

  /**
   * Called for every authenticated request with the verified claims. The user's and organization's current state
   * decide, not the token's: a deactivated user or organization, or a bumped token version, is refused at once, and
   * the role is the one stored now.
   */
  async authenticate(claims: AccessTokenClaims): Promise<Principal> {
    if (claims.role === 'superadmin') {
      const admin = await this.platformAdmins.findById(claims.sub);
      if (!admin || admin.status !== 'active' || admin.tokenVersion !== claims.ver) throw AuthError.invalidToken();
      this.context.setPrincipal(null, { type: 'user', id: admin.id, role: 'superadmin' });
      return { userId: admin.id, orgId: null, role: 'superadmin', tokenId: claims.jti };
    }
    if (!claims.org) throw AuthError.invalidToken();
    const orgId = asOrgId(claims.org);
    const state = await this.uow.inTenant(orgId, () => this.users.findTokenState(orgId, claims.sub));
    if (!state || state.status !== 'active' || state.orgStatus !== 'active' || state.tokenVersion !== claims.ver) {
      throw AuthError.invalidToken();
    }
    this.context.setPrincipal(orgId, { type: 'user', id: claims.sub, role: state.role });
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
    const [user, org] = await this.uow.run(async () => [await this.users.findById(orgId, actor.id!), await this.organizations.current()] as const);
    if (!user) throw AuthError.invalidToken();
    return { id: user.id, email: user.email, name: user.name, role: user.role, organization: { id: org.id, slug: org.slug, name: org.name } };
  }
}
