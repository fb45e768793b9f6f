import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@tenantry/core';
import { TenancyModule } from '@tenantry/tenancy';
import { UsersModule } from '@tenantry/users';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard, RolesGuard } from './guards';
import { JwtStrategy } from './jwt.strategy';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TokenStateCache } from './token-state.cache';
import { TokenService, signingKey } from './token.service';
import { SsoConnection } from './sso/sso-connection.entity';
import { SsoConnectionController, SsoController } from './sso/sso.controller';
import { SsoService } from './sso/sso.service';
import { TypeOrmModule } from '@nestjs/typeorm';

@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: signingKey(config.jwtSecret),
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
    TenancyModule,
    UsersModule,
    TypeOrmModule.forFeature([SsoConnection]),
  ],
  controllers: [AuthController, SsoConnectionController, SsoController],
  providers: [AuthService, SsoService, TokenService, TokenStateCache, RefreshTokensRepository, JwtStrategy, JwtAuthGuard, RolesGuard],
  exports: [AuthService, TokenService, JwtAuthGuard, RolesGuard],
})
export class AuthModule {}
