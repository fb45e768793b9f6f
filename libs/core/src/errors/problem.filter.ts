import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DomainError, FieldError } from './domain-error';
import { dataExceptionLogFields, dataExceptionState } from './sql-state';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
  errorId?: string;
}

const PROBLEM_BASE = 'https://tenantry.dev/problems/';

/** Fastify's own errors (body parsing, body limit, media type) carry a status code and a code of their own. */
function fastifyError(error: unknown): { statusCode: number; code: string; message: string } | null {
  const candidate = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof candidate?.statusCode === 'number' && typeof candidate.code === 'string' && candidate.code.startsWith('FST_')) {
    return { statusCode: candidate.statusCode, code: candidate.code, message: String(candidate.message) };
  }
  return null;
}

function fastifyDetail(code: string, message: string): string {
  switch (code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty but content-type is application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than the 1 MiB limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Send JSON with content-type: application/json';
    case 'FST_ERR_BAD_URL':
      return 'The URL is not valid percent-encoded UTF-8';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'A path parameter is longer than 100 characters';
    default:
      return message;
  }
}

/**
 * The only place errors leave the process: every one becomes an RFC 9457 problem document. Domain errors describe
 * themselves; anything unexpected becomes a 500 with an `errorId` that points into the logs, and nothing else.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    if (reply.sent) return;
    const healthReport = this.healthReport(exception);
    if (healthReport) {
      void reply.status(503).send(healthReport);
      return;
    }
    const problem = this.toProblem(exception, request);
    if (problem.status === 429) this.setRetryAfter(reply);
    void reply.status(problem.status).header('content-type', 'application/problem+json; charset=utf-8').send(problem);
  }

  /** Terminus answers 503 with its report, which names the failing dependency: SREs and probes read it as is. */
  private healthReport(exception: unknown): object | null {
    if (!(exception instanceof HttpException) || exception.getStatus() !== 503) return null;
    const response = exception.getResponse();
    return typeof response === 'object' && response !== null && 'details' in response && 'error' in response ? response : null;
  }

  private unparsableBody(base: { instance: string; requestId: string }): ProblemDocument {
    return {
      type: PROBLEM_BASE + 'invalid_json',
      title: 'Bad Request',
      status: 400,
      detail: 'The request body is not valid JSON',
      ...base,
      errors: [{ field: 'body', message: 'body must be valid JSON' }],
    };
  }

  /** The throttler names its header after the limit that tripped (Retry-After-login-ip); callers expect Retry-After. */
  private setRetryAfter(reply: FastifyReply): void {
    const waits = Object.entries(reply.getHeaders())
      .filter(([name]) => name.toLowerCase().startsWith('retry-after'))
      .map(([, value]) => Number(value))
      .filter((value) => Number.isFinite(value));
    void reply.header('Retry-After', String(Math.max(1, ...waits)));
  }

  toProblem(exception: unknown, request: FastifyRequest): ProblemDocument {
    const base = { instance: request.url.split('?')[0], requestId: String(request.id) };
    if (exception instanceof DomainError) {
      const shape = exception.problem();
      return {
        type: PROBLEM_BASE + exception.code,
        title: shape.title,
        status: shape.status,
        detail: exception.message,
        ...base,
        ...(shape.errors ? { errors: shape.errors } : {}),
      };
    }
    if (exception instanceof ThrottlerException) {
      return { type: PROBLEM_BASE + 'rate_limited', title: 'Too Many Requests', status: 429, detail: 'Too many requests; retry after the time in Retry-After', ...base };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const detail = status === 404 && !(typeof response === 'object' && 'detail' in (response as object))
        ? `No route ${request.method} ${base.instance}`
        : typeof response === 'string'
          ? response
          : String((response as { message?: unknown }).message ?? STATUS_CODES[status]);
      if (status >= 500) this.logger.error(exception);
      if (status === 400 && /json/i.test(detail)) return this.unparsableBody(base);
      return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, ...base };
    }
    const fst = fastifyError(exception);
    if (fst && fst.statusCode < 500) {
      if (fst.statusCode === 400 && /json/i.test(fst.message)) return this.unparsableBody(base);
      return {
        type: 'about:blank',
        title: STATUS_CODES[fst.statusCode] ?? 'Error',
        status: fst.statusCode,
        detail: fastifyDetail(fst.code, fst.message),
        ...base,
      };
    }
    const sqlState = dataExceptionState(exception);
    if (sqlState) {
      // Not the caller's fault alone: input the edge should have refused reached PostgreSQL. The values stay out of
      // the log (they may be secrets or personal data); the SQLSTATE and the column say where the edge has a gap.
      this.logger.error(
        { event: 'input.reached_database', ...dataExceptionLogFields(exception), method: request.method, route: request.routeOptions?.url },
        'Bug: PostgreSQL refused a value that validation let through',
      );
      return {
        type: PROBLEM_BASE + 'invalid_value',
        title: 'Bad Request',
        status: 400,
        detail: 'A value in the request cannot be stored or compared; check its type, range and characters',
        ...base,
      };
    }
    const errorId = crypto.randomUUID();
    this.logger.error({ err: exception, errorId }, 'Unhandled error');
    return {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred; quote the errorId when you report it',
      ...base,
      errorId,
    };
  }
}
