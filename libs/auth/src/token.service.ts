import { Injectable, Logger } from '@nestjs/common';
import { KeyObject, createSecretKey } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AppConfig, Role, UnitOfWork, asOrgId } from '@tenantry/core';
import { RefreshTokenScope, mintRefreshToken, parseRefreshToken } from './refresh-token';
import { RefreshTokensRepository } from './refresh-tokens.repository';

export const TOKEN_ISSUER = 'tenantry';

/**
 * The HS256 key as a parsed `KeyObject`. Given a string, jsonwebtoken first tries `createPublicKey` on every sign and
 * verify and throws (auth0/node-jsonwebtoken#1046): measured here, 417 µs a verify instead of 7.5.
 */
export const signingKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'));
export const TOKEN_AUDIENCE = 'tenantry-api';

export interface TokenSubject {
  id: string;
  orgId: string | null;
  role: Role;
  tokenVersion: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Loads the subject of a refresh token family as it is now: null when it may no longer get tokens. */
export type CurrentSubjectLoader = (scope: RefreshTokenScope, subjectId: string) => Promise<TokenSubject | null>;

export type RotationRefusal = 'malformed' | 'unknown' | 'revoked' | 'reused' | 'expired' | 'subject_changed';
export type RotationResult = { pair: TokenPair } | { refused: RotationRefusal };

const scopeOf = (subject: TokenSubject): RefreshTokenScope =>
  subject.orgId === null ? { kind: 'platform' } : { kind: 'organization', orgId: asOrgId(subject.orgId) };

/**
 * Access tokens (short-lived JWTs) and refresh tokens (opaque, stored as hashes, one family per login, rotated on
 * every use). Presenting a spent refresh token again revokes its whole family: a thief and the victim then both
 * have to log in again, and the reuse is logged.
 */
@Injectable()
export class TokenService {
  private readonly logger = new Logger(TokenService.name);

  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  /** A new pair that starts a new refresh token family: a login. */
  async issue(subject: TokenSubject): Promise<TokenPair> {
    const scope = scopeOf(subject);
    const refreshToken = await this.inScope(scope, async () => {
      const familyId = await this.refreshTokens.createFamily(scope, subject.id, subject.tokenVersion);
      return this.addRefreshToken(scope, familyId);
    });
    return this.pair(subject, refreshToken);
  }

  /** Spends `presented` and answers a new pair of the same family, or says why it refuses. */
  async rotate(presented: string, currentSubject: CurrentSubjectLoader): Promise<RotationResult> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) return { refused: 'malformed' };
    const { scope, hash } = parsed;
    const outcome = await this.inScope(scope, async (): Promise<{ subject: TokenSubject; refreshToken: string } | { refused: RotationRefusal; familyId?: string }> => {
      const family = await this.refreshTokens.lockFamilyByTokenHash(scope, hash);
      if (!family) return { refused: 'unknown' };
      if (family.revoked) return { refused: 'revoked', familyId: family.id };
      if (family.token.used) {
        // Committed with this transaction, even though the caller is refused.
        await this.refreshTokens.revokeFamily(scope, family.id, 'reuse');
        return { refused: 'reused', familyId: family.id };
      }
      if (family.token.expired) return { refused: 'expired', familyId: family.id };
      const subject = await currentSubject(scope, family.subjectId);
      if (!subject || subject.tokenVersion !== family.tokenVersion) {
        await this.refreshTokens.revokeFamily(scope, family.id, 'subject_changed');
        return { refused: 'subject_changed', familyId: family.id };
      }
      await this.refreshTokens.markUsed(scope, family.token.id);
      return { subject, refreshToken: await this.addRefreshToken(scope, family.id) };
    });
    if ('refused' in outcome) {
      if (outcome.refused === 'reused') {
        this.logger.warn({ event: 'refresh_token.reused', familyId: outcome.familyId }, 'A spent refresh token was presented again: its family is revoked');
      }
      return { refused: outcome.refused };
    }
    return { pair: await this.pair(outcome.subject, outcome.refreshToken) };
  }

  /**
   * Revokes the family of `presented` when it belongs to `owner`; another's token, or garbage, changes nothing.
   * Answers whether a family was revoked.
   */
  async revoke(presented: string, owner: { id: string; orgId: string | null }): Promise<boolean> {
    const parsed = parseRefreshToken(presented);
    if (!parsed) return false;
    const { scope, hash } = parsed;
    const ownScope = owner.orgId === null ? scope.kind === 'platform' : scope.kind === 'organization' && scope.orgId === owner.orgId;
    if (!ownScope) return false;
    return this.inScope(scope, async () => {
      const family = await this.refreshTokens.lockFamilyByTokenHash(scope, hash);
      if (!family || family.subjectId !== owner.id) return false;
      await this.refreshTokens.revokeFamily(scope, family.id, 'logout');
      return true;
    });
  }

  private async addRefreshToken(scope: RefreshTokenScope, familyId: string): Promise<string> {
    const minted = mintRefreshToken(scope);
    await this.refreshTokens.addToken(scope, familyId, minted.hash, this.config.refreshTokenTtlSeconds);
    return minted.token;
  }

  /** Refresh tokens are looked up before anyone is authenticated: the token's own scope binds the transaction. */
  private inScope<T>(scope: RefreshTokenScope, work: () => Promise<T>): Promise<T> {
    return scope.kind === 'platform' ? this.uow.asPlatform(work, { systemTask: 'refresh' }) : this.uow.inTenant(scope.orgId, work);
  }

  private async pair(subject: TokenSubject, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.jwt.signAsync(
      { org: subject.orgId, role: subject.role, ver: subject.tokenVersion },
      {
        subject: subject.id,
        jwtid: crypto.randomUUID(),
        expiresIn: this.config.accessTokenTtlSeconds,
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithm: 'HS256',
      },
    );
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.accessTokenTtlSeconds };
  }
}
