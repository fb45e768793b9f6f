import { LoggerService } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';
import pino, { Logger } from 'pino';

/** Fields that must never reach a log line, wherever they appear in a logged object. */
const REDACT = [
  'password',
  'currentPassword',
  'passwordHash',
  'clientSecret',
  'secret',
  'refreshToken',
  'accessToken',
  'authorization',
  '*.password',
  '*.currentPassword',
  '*.passwordHash',
  '*.clientSecret',
  '*.secret',
  '*.refreshToken',
  '*.accessToken',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["webhook-signature"]',
];

/**
 * The process's one pino instance. Every line written inside a request or a job carries its requestId and orgId,
 * read from the tenant context, so a person can follow one request through the logs.
 */
export function createRootLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    mixin() {
      const cls = ClsServiceManager.getClsService();
      if (!cls?.isActive()) return {};
      const orgId = cls.get('orgId') as string | null | undefined;
      return { requestId: cls.getId(), ...(orgId ? { orgId } : {}) };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's LoggerService over the same pino instance, so framework and application lines share one format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      // Nest's Logger.warn(fields, 'text') arrives as (fields, 'text', context): keep the text as pino's message.
      if (typeof rest[0] === 'string') this.logger[level]({ context, ...(message as object) }, rest[0]);
      else this.logger[level]({ context, ...(message as object) });
    } else if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n')) {
      this.logger.error({ context, stack: rest[0] }, String(message));
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}
