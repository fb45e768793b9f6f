import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig, Role } from '@tenantry/core';

export const TOKEN_ISSUER = 'tenantry';
export const TOKEN_AUDIENCE = 'tenantry-api';

export interface TokenSubject {
  id: string;
  orgId: string | null;
  role: Role;
  tokenVersion: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken?: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  async issue(subject: TokenSubject): Promise<TokenPair> {
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
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.accessTokenTtlSeconds };
  }
}
