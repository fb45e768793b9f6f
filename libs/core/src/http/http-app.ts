import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { FastifyError, FastifyReply, FastifyRequest, LogController, preHandlerHookHandler } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { Logger } from 'pino';
import { ProblemFilter } from '../errors/problem.filter';
import { CommonError } from '../errors/domain-error';
import { createValidationPipe } from '../errors/validation';
import { findHostileInput } from './input-guard';
import { Metrics } from '../metrics/metrics';

export const BODY_LIMIT_BYTES = 1024 * 1024;
const LIVENESS_PATH = '/health/live';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a well-formed `x-request-id`, otherwise makes one; Fastify then uses it for the request and its logs. */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

export function createFastifyAdapter(logger: Logger, options: { trustProxy: boolean }): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    // One access-log line per request comes from our onResponse hook, with the tenant in it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    trustProxy: options.trustProxy,
    // A URL the router cannot decode (bad percent-encoding) or with an overlong parameter is refused before any
    // route or hook runs; without this Fastify answers it with its own JSON instead of a problem document.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const problem = new ProblemFilter().toProblem(error, request);
      void reply
        .status(problem.status)
        .header('x-request-id', request.id)
        .header('content-type', 'application/problem+json; charset=utf-8')
        .send(problem);
    },
  });
}

/**
 * Everything an HTTP app of ours does the same way: liveness outside Nest's pipeline, request ids on every
 * response, one access-log line per request, validation, problem+json and the OpenAPI document.
 */
export function configureHttpApp(app: NestFastifyApplication, logger: Logger): void {
  const fastify = app.getHttpAdapter().getInstance();

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // The tenant context opens after the body is parsed: an AsyncLocalStorage context entered earlier (onRequest,
  // middleware) does not survive the body stream's events. Everything Nest runs (guards, pipes, handlers) is inside.
  // It is attached to each route as it is registered, so that liveness, which needs no context, pays nothing for it.
  // The same hook first refuses input that no route can validate or store (see input-guard.ts), once for every
  // route: it sees the parsed body, so request.rawBody keeps the exact bytes for signature checks.
  const cls = app.get(ClsService);
  const openTenantContext: preHandlerHookHandler = (request, _reply, done) => {
    const hostile =
      findHostileInput(request.body, 'body') ?? findHostileInput(request.query, 'query') ?? findHostileInput(request.params, 'path');
    if (hostile) {
      done(CommonError.validation([hostile]));
      return;
    }
    cls.run(() => {
      cls.set(CLS_ID, String(request.id));
      cls.set('ip', request.ip ?? null);
      cls.set('userAgent', request.headers['user-agent'] ?? null);
      done();
    });
  };
  fastify.addHook('onRoute', (route) => {
    if (route.url === LIVENESS_PATH) return;
    route.preHandler = [openTenantContext, ...(route.preHandler ? [route.preHandler].flat() : [])];
  });
  const metrics = metricsOf(app);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url;
    metrics?.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime);
    // Load balancers call liveness every few seconds: a line each would drown the log.
    if (route === LIVENESS_PATH) return done();
    logger.info(
      {
        requestId: request.id,
        orgId: (request as { user?: { orgId?: string | null } }).user?.orgId ?? undefined,
        method: request.method,
        route: route ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
    done();
  });
  // Liveness answers from Fastify directly: it must answer even when the app is busy, and load balancers call it most.
  fastify.get(LIVENESS_PATH, (_request, reply) => {
    void reply.send({ status: 'ok' });
  });

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  setupOpenApi(app);
}

/** The app's metrics, when its module imports MetricsModule (every app of ours does; a test's bare module may not). */
function metricsOf(app: INestApplication): Metrics | null {
  try {
    return app.get(Metrics, { strict: false });
  } catch {
    return null;
  }
}

function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tenantry API')
    .setDescription(
      'Multi-tenant SaaS backend. Errors are RFC 9457 problem documents (application/problem+json); every response ' +
        'carries x-request-id; lists answer {data, meta: {page, limit, total}}.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer')
    .build();
  const document = withProblemResponses(withLiveness(SwaggerModule.createDocument(app, config)));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/** Liveness is a bare Fastify route (see configureHttpApp), so Nest's scanner does not see it: it is described here. */
function withLiveness(document: OpenAPIObject): OpenAPIObject {
  document.paths = {
    [LIVENESS_PATH]: {
      get: {
        operationId: 'liveness',
        tags: ['health'],
        summary: 'Liveness: 200 {status: "ok"} while the process runs',
        security: [],
        responses: {
          '200': {
            description: 'The process runs',
            content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } } },
          },
        },
      },
    },
    ...document.paths,
  };
  return document;
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem document',
  required: ['type', 'title', 'status', 'detail', 'instance', 'requestId'],
  properties: {
    type: { type: 'string', example: 'https://tenantry.dev/problems/validation_failed' },
    title: { type: 'string', example: 'Bad Request' },
    status: { type: 'integer', example: 400 },
    detail: { type: 'string', example: 'The request is not valid' },
    instance: { type: 'string', example: '/v1/users' },
    requestId: { type: 'string', example: '3f6c1f8e-0b7e-4a59-9d3e-2d1c0f8a9b10' },
    errors: {
      type: 'array',
      description: 'Validation failures, one per field',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
    errorId: { type: 'string', description: 'On a 500 only: quote it when reporting the error' },
  },
};

/**
 * Every operation can fail the same way: its `default` response is a problem document, and each error response it
 * names (`@ApiNotFoundResponse({ description })`, ...) has that body too, so a typed client can read it.
 */
function withProblemResponses(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Problem: PROBLEM_SCHEMA } };
  const content = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  const problem = { description: 'Any error: a problem document (application/problem+json)', content };
  for (const path of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = path[method];
      if (!operation) continue;
      const responses = { ...operation.responses };
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400 && response && !('$ref' in response) && !response.content) responses[status] = { ...response, content };
      }
      operation.responses = { ...responses, default: operation.responses?.default ?? problem };
    }
  }
  return document;
}
