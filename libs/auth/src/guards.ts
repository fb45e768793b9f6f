import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC, ROLES_KEY, Role } from '@tenantry/core';
import { AuthError, AuthErrorCode } from './auth.errors';
import { Principal } from './principal';

/** Every route needs a valid access token unless it is marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<T = Principal>(error: unknown, principal: T | false): T {
    if (error instanceof AuthError) throw error;
    if (error || !principal) throw AuthError.invalidToken();
    return principal;
  }
}

/** Refuses with 403 a caller whose role the route does not list. Routes that list none admit every role. */
@Injectable()
export class RolesGuard {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!roles || roles.length === 0) return true;
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal) return true; // public route
    if (!roles.includes(principal.role)) {
      throw new AuthError(AuthErrorCode.Forbidden, `This action needs one of the roles: ${roles.join(', ')}`);
    }
    return true;
  }
}
