import { ExecutionContext, SetMetadata } from '@nestjs/common';
import { SkipThrottle, ThrottlerModuleOptions, ThrottlerOptions, ThrottlerStorage } from '@nestjs/throttler';
import { Config } from '../config/config';

const LOGIN_ROUTE = 'tenantry:login-route';
/** Puts a route under the login limits (per IP and per e-mail) instead of the per-user API limit. */
export const LoginRateLimited = () => SetMetadata(LOGIN_ROUTE, true);

export const THROTTLER_NAMES = ['api', 'login-ip', 'login-email'] as const;
/** Exempts a route from every named limit (health checks: they must answer whatever the load). */
export const SkipAllThrottles = () => SkipThrottle(Object.fromEntries(THROTTLER_NAMES.map((name) => [name, true])));

const isLoginRoute = (context: ExecutionContext): boolean => Reflect.getMetadata(LOGIN_ROUTE, context.getHandler()) === true;

interface ThrottledRequest {
  ip: string;
  user?: { userId?: string };
  body?: { organization?: unknown; email?: unknown };
}

const MINUTE = 60_000;

/**
 * The named limits of the contract, all counted in Redis by one atomic script. `RATE_LIMIT_API=off` leaves the
 * per-user API limit out (a deployment that limits at its gateway, and the benchmark measuring what the limit costs);
 * the login limits always stay, since they guard against password guessing.
 */
export function throttlerOptions(config: Pick<Config, 'rateLimit'>, storage: ThrottlerStorage): ThrottlerModuleOptions {
  const api: ThrottlerOptions = {
    name: 'api',
    ttl: MINUTE,
    limit: config.rateLimit.apiPerUser,
    skipIf: isLoginRoute,
    getTracker: (req) => {
      const request = req as ThrottledRequest;
      return request.user?.userId ? `user:${request.user.userId}` : `ip:${request.ip}`;
    },
  };
  return {
    storage,
    errorMessage: 'Too many requests',
    throttlers: [
      ...(config.rateLimit.apiEnabled ? [api] : []),
      {
        name: 'login-ip',
        ttl: MINUTE,
        limit: config.rateLimit.loginPerIp,
        skipIf: (context) => !isLoginRoute(context),
        getTracker: (req) => (req as ThrottledRequest).ip,
      },
      {
        name: 'login-email',
        ttl: MINUTE,
        limit: config.rateLimit.loginPerEmail,
        skipIf: (context) => !isLoginRoute(context),
        getTracker: (req) => {
          const body = (req as ThrottledRequest).body ?? {};
          return `${String(body.organization ?? '').toLowerCase()}|${String(body.email ?? '').trim().toLowerCase()}`;
        },
      },
    ],
  };
}
