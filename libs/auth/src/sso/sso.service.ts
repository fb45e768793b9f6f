import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import { Strategy as OpenIdConnectStrategy } from 'passport-openidconnect';
import { AppConfig, OrgId, OrgRole, RedisService, SYSTEM_ACTOR, SecretBox, TenantContext, UnitOfWork, asOrgId } from '@tenantry/core';
import { User } from '@tenantry/users';
import { TokenStateCache } from '../token-state.cache';
import { TokenPair, TokenService } from '../token.service';
import { RedisStateStore } from './redis-state.store';
import { SsoConnection, SsoProvider, clientSecretContext } from './sso-connection.entity';
import { PutSsoConnectionDto, SsoConnectionDto, SsoDiscoveryDto } from './sso.dto';
import { SsoError } from './sso.errors';

interface ConnectionRow {
  org_id: string;
  provider: SsoProvider;
  issuer: string;
  client_id: string;
  client_secret: Buffer;
  default_role: OrgRole;
  group_roles: Record<string, OrgRole>;
  updated_at: Date;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
}

interface CachedStrategy {
  version: string;
  strategy: OpenIdConnectStrategy;
  discovery: Discovery;
}

type StrategyOutcome = { redirect: string } | { user: { idToken: string } } | { fail: unknown };

const DISCOVERY_TTL_MS = 5 * 60_000;
const IDP_TIMEOUT_MS = 5000;
/** Clocks of the identity provider and ours may differ by this much (exp, iat, nbf). */
const CLOCK_SKEW_SECONDS = 60;
const ROLE_RANK: Record<OrgRole, number> = { viewer: 0, member: 1, admin: 2 };

/**
 * Single sign-on per organization with a real OpenID Connect authorization-code flow. passport-openidconnect builds
 * the redirect and exchanges the code (one strategy per organization, cached and rebuilt when its connection changes,
 * called directly rather than through passport's process-global registry, since Fastify has no Express request);
 * `state` and `nonce` live in Redis, single use. The ID token is then verified with jose against the provider's JWKS
 * (signature, iss, aud, exp, iat, and `tid` for Entra ID), and the user is provisioned just in time.
 */
@Injectable()
export class SsoService {
  private readonly logger = new Logger('Sso');
  private readonly strategies = new Map<string, CachedStrategy>();
  private readonly discoveries = new Map<string, { at: number; document: Discovery }>();
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly secretBox: SecretBox,
    private readonly redis: RedisService,
    private readonly tokens: TokenService,
    private readonly config: AppConfig,
    private readonly tokenStates: TokenStateCache,
  ) {}

  redirectUri(slug: string): string {
    return `${this.config.publicUrl}/v1/auth/sso/${slug}/callback`;
  }

  /** Creates or replaces the organization's connection and its claimed domains (409 for a domain another holds). */
  async put(input: PutSsoConnectionDto): Promise<SsoConnectionDto> {
    const orgId = this.context.requireOrgId();
    const domains = [...new Set(input.domains)];
    const saved = await this.uow.run(async (manager) => {
      const [{ slug }] = await this.uow.query<{ slug: string }>('select slug from organizations where id = $1', [orgId]);
      const existing = await manager.findOne(SsoConnection, { where: { orgId }, lock: { mode: 'pessimistic_write' } });
      const connection = existing ?? manager.create(SsoConnection, { orgId, id: randomUUID() });
      Object.assign(connection, {
        provider: input.provider,
        issuer: input.issuer.replace(/\/+$/, ''),
        clientId: input.clientId,
        clientSecret: this.secretBox.seal(input.clientSecret, clientSecretContext(orgId)),
        defaultRole: input.defaultRole,
        groupRoles: input.groupRoles,
      });
      const row = await manager.save(connection);
      await this.uow.query('delete from sso_domains where org_id = $1', [orgId]);
      for (const domain of domains) {
        try {
          await this.uow.query('insert into sso_domains (domain, org_id) values ($1, $2)', [domain, orgId]);
        } catch (error) {
          if ((error as { code?: string }).code === '23505') throw SsoError.domainTaken(domain);
          throw error;
        }
      }
      return { row, slug };
    });
    this.strategies.delete(orgId);
    this.logger.log({ event: 'sso.connection_saved', orgId, provider: input.provider, issuer: saved.row.issuer, domains });
    return this.view(saved.row, domains, saved.slug);
  }

  /** The organization's connection, without its secret; 404 when it has none. */
  async get(): Promise<SsoConnectionDto> {
    const orgId = this.context.requireOrgId();
    const found = await this.uow.run(async (manager) => {
      const row = await manager.findOne(SsoConnection, { where: { orgId } });
      if (!row) return null;
      const domains = await this.uow.query<{ domain: string }>('select domain from sso_domains where org_id = $1 order by domain', [orgId]);
      const [{ slug }] = await this.uow.query<{ slug: string }>('select slug from organizations where id = $1', [orgId]);
      return { row, domains: domains.map((d) => d.domain), slug };
    });
    if (!found) throw SsoError.notConfigured();
    return this.view(found.row, found.domains, found.slug);
  }

  private view(row: SsoConnection, domains: string[], slug: string): SsoConnectionDto {
    return {
      provider: row.provider,
      issuer: row.issuer,
      clientId: row.clientId,
      domains,
      defaultRole: row.defaultRole,
      groupRoles: row.groupRoles,
      redirectUri: this.redirectUri(slug),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  async discover(email: string): Promise<SsoDiscoveryDto> {
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    const [found] = await this.uow.query<{ slug: string }>('select slug from sso_discover($1)', [domain]);
    if (!found) throw SsoError.noOrganizationForDomain();
    return { organization: found.slug, loginUrl: `${this.config.publicUrl}/v1/auth/sso/${found.slug}/login` };
  }

  /** Where to send the browser: the provider's authorization endpoint, with a fresh single-use state and nonce. */
  async loginRedirect(slug: string): Promise<string> {
    const { strategy } = await this.strategyFor(slug);
    const outcome = await this.drive(strategy, { query: {} });
    if ('redirect' in outcome) return outcome.redirect;
    throw SsoError.identityProviderUnavailable();
  }

  /** The provider's redirect back: exchange the code, verify the ID token, provision the user, issue our pair. */
  async callback(slug: string, query: Record<string, string | undefined>): Promise<TokenPair> {
    const connection = await this.connectionFor(slug);
    // A callback without a live state of this organization is refused before anything reaches the provider.
    if (!query.state || !(await RedisStateStore.exists(this.redis, connection.org_id, query.state))) {
      this.logger.warn({ event: 'sso.refused', orgId: connection.org_id, reason: query.error ? `provider error ${query.error.slice(0, 100)}` : 'unknown state' });
      throw SsoError.loginFailed();
    }
    const { strategy, discovery } = await this.strategyFor(slug, connection);
    let outcome: StrategyOutcome;
    try {
      outcome = await this.drive(strategy, { query });
    } catch (error) {
      this.logger.warn({ event: 'sso.refused', orgId: connection.org_id, reason: (error as Error).message?.slice(0, 200) });
      throw SsoError.loginFailed();
    }
    if (!('user' in outcome)) {
      this.logger.warn({ event: 'sso.refused', orgId: connection.org_id, reason: JSON.stringify((outcome as { fail?: unknown }).fail ?? null).slice(0, 200) });
      throw SsoError.loginFailed();
    }
    const claims = await this.verifyIdToken(outcome.user.idToken, connection, discovery);
    return this.provision(asOrgId(connection.org_id), connection, claims);
  }

  private async connectionFor(slug: string): Promise<ConnectionRow> {
    const [row] = await this.uow.query<ConnectionRow>('select * from sso_connection_for($1)', [slug]);
    if (!row) throw SsoError.notConfigured();
    return row;
  }

  private async strategyFor(slug: string, known?: ConnectionRow): Promise<CachedStrategy> {
    const connection = known ?? (await this.connectionFor(slug));
    const version = `${new Date(connection.updated_at).toISOString()}|${slug}`;
    const cached = this.strategies.get(connection.org_id);
    if (cached && cached.version === version) return cached;
    const discovery = await this.discoveryOf(connection.issuer);
    const strategy = new OpenIdConnectStrategy(
      {
        issuer: discovery.issuer,
        authorizationURL: discovery.authorization_endpoint,
        tokenURL: discovery.token_endpoint,
        userInfoURL: discovery.userinfo_endpoint ?? discovery.token_endpoint,
        clientID: connection.client_id,
        clientSecret: this.secretBox.openString(connection.client_secret, clientSecretContext(connection.org_id)),
        callbackURL: this.redirectUri(slug),
        scope: ['email', 'profile'],
        nonce: true,
        skipUserProfile: true,
        store: new RedisStateStore(this.redis, connection.org_id),
      } as never,
      // Arity 8: (issuer, profile, context, idToken, accessToken, refreshToken, params, done); the token is verified after.
      ((_issuer: string, _profile: unknown, _context: unknown, idToken: string, _access: unknown, _refresh: unknown, _params: unknown, done: (e: null, user: object) => void) =>
        done(null, { idToken })) as never,
    );
    const entry = { version, strategy, discovery };
    this.strategies.set(connection.org_id, entry);
    return entry;
  }

  private async discoveryOf(issuer: string): Promise<Discovery> {
    const cached = this.discoveries.get(issuer);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.document;
    let document: Discovery;
    try {
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(IDP_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      document = (await response.json()) as Discovery;
    } catch (error) {
      this.logger.warn({ event: 'sso.discovery_failed', issuer, reason: (error as Error).message });
      throw SsoError.identityProviderUnavailable();
    }
    if (document.issuer !== issuer) {
      this.logger.warn({ event: 'sso.discovery_failed', issuer, reason: `the document names issuer ${document.issuer}` });
      throw SsoError.identityProviderUnavailable();
    }
    this.discoveries.set(issuer, { at: Date.now(), document });
    return document;
  }

  /** passport's protocol, without passport's registry: the strategy's outcome as a promise. */
  private drive(strategy: OpenIdConnectStrategy, request: { query: Record<string, unknown> }): Promise<StrategyOutcome> {
    return new Promise((resolve, reject) => {
      const call = Object.create(strategy) as OpenIdConnectStrategy & Record<string, unknown>;
      call.redirect = (url: string) => resolve({ redirect: url });
      call.success = (user: { idToken: string }) => resolve({ user });
      call.fail = (challenge: unknown) => resolve({ fail: challenge ?? 'failed' });
      call.pass = () => resolve({ fail: 'pass' });
      call.error = (error: Error) => reject(error);
      call.authenticate(request as never, {});
    });
  }

  private async verifyIdToken(idToken: string, connection: ConnectionRow, discovery: Discovery): Promise<JWTPayload> {
    let keys = this.keySets.get(discovery.jwks_uri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: IDP_TIMEOUT_MS });
      this.keySets.set(discovery.jwks_uri, keys);
    }
    try {
      const { payload } = await jwtVerify(idToken, keys, {
        issuer: connection.issuer,
        audience: connection.client_id,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
        maxTokenAge: '1h',
      });
      if (connection.provider === 'azure-ad') {
        const tenant = /\/([0-9a-f-]{36})\/v2\.0$/i.exec(connection.issuer)?.[1];
        if (!tenant || payload.tid !== tenant) throw new Error('tid does not match the tenant of the issuer');
        if (typeof payload.oid !== 'string') throw new Error('no oid');
      }
      return payload;
    } catch (error) {
      this.logger.warn({ event: 'sso.refused', orgId: connection.org_id, reason: (error as Error).message?.slice(0, 200) });
      throw SsoError.loginFailed();
    }
  }

  /** First login creates the user (`source: "sso"`, no password); a later one updates name and role from the claims. */
  private async provision(orgId: OrgId, connection: ConnectionRow, claims: JWTPayload): Promise<TokenPair> {
    const externalId = String(connection.provider === 'azure-ad' ? claims.oid : claims.sub);
    const email = String(claims.email ?? claims.preferred_username ?? '').toLowerCase();
    if (!email.includes('@')) {
      this.logger.warn({ event: 'sso.refused', orgId, reason: 'no e-mail claim' });
      throw SsoError.loginFailed();
    }
    const name = String(claims.name ?? email).slice(0, 200);
    const role = roleFor(claims.groups, connection);
    this.context.setPrincipal(orgId, SYSTEM_ACTOR);
    const pair = await this.uow.inTenant(orgId, async (manager) => {
      let user = await manager.findOne(User, { where: { orgId, source: 'sso', externalId }, lock: { mode: 'pessimistic_write' } });
      if (!user) {
        const holder = await manager.createQueryBuilder(User, 'user').where('user.orgId = :orgId and lower(user.email) = :email', { orgId, email }).setLock('pessimistic_write').getOne();
        // An account of the same e-mail (local, invited, or synced from the user service) is this person: it is
        // linked and activated, not duplicated. One already linked to another SSO identity is not taken over.
        if (holder?.source === 'sso' && holder.externalId !== externalId) {
          this.logger.warn({ event: 'sso.refused', orgId, reason: 'e-mail belongs to another identity', userId: holder.id });
          throw SsoError.loginFailed();
        }
        user = holder;
      }
      if (user?.status === 'deactivated') {
        this.logger.warn({ event: 'sso.refused', orgId, reason: 'deactivated', userId: user.id });
        throw SsoError.loginFailed();
      }
      const created = !user;
      user ??= manager.create(User, { orgId, email, passwordHash: null, tokenVersion: 0, source: 'sso', externalId });
      // A user the user service manages keeps its link to it (its id there); the login finds it by e-mail.
      if (user.source === 'local') Object.assign(user, { source: 'sso', externalId });
      Object.assign(user, { name, role, status: 'active' });
      const saved = await manager.save(user);
      // Signing in is what an open invitation was for: it is spent.
      await this.uow.query(`update invitations set used_at = now(), token_ciphertext = null where org_id = $1 and user_id = $2 and used_at is null and replaced_at is null`, [
        orgId,
        saved.id,
      ]);
      this.logger.log({ event: created ? 'sso.user_created' : 'sso.login', orgId, userId: saved.id, role });
      return this.tokens.issue({ id: saved.id, orgId, role: saved.role, tokenVersion: saved.tokenVersion });
    });
    // The claims may have changed the role: this process forgets what it cached at once (others hear the NOTIFY), so
    // the new pair is not refused for a role its cache still holds.
    this.tokenStates.invalidate();
    return pair;
  }
}

/** The highest role any of the user's groups maps to, else the default; never superadmin, whatever the claims say. */
export function roleFor(groups: unknown, connection: Pick<ConnectionRow, 'default_role' | 'group_roles'>): OrgRole {
  const mapped = (Array.isArray(groups) ? groups : [])
    .filter((group): group is string => typeof group === 'string')
    .map((group) => connection.group_roles[group])
    .filter((role): role is OrgRole => role !== undefined && role in ROLE_RANK);
  if (mapped.length === 0) return connection.default_role;
  return mapped.reduce((best, role) => (ROLE_RANK[role] > ROLE_RANK[best] ? role : best));
}
