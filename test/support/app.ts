import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AppConfig, Config, PinoNestLogger, configureHttpApp, createFastifyAdapter, createRootLogger, parseConfig } from '@tenantry/core';
import { AppModule } from '../../apps/api/src/app.module';

export interface HttpResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as-is (not JSON-encoded); for malformed or oversized bodies. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** The client address Fastify sees (default 127.0.0.1). */
  remoteAddress?: string;
}

/** Log lines an app wrote, parsed, for tests that assert what an operator would read. */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  write(chunk: string): void {
    for (const line of chunk.split('\n').filter(Boolean)) this.lines.push(JSON.parse(line));
  }
}

export type ConfigOverrides = Partial<Omit<Config, 'rateLimit'>> & { rateLimit?: Partial<Config['rateLimit']> };

/** The API booted in-process on the run's real database and Redis; requests go through Fastify's inject. */
export class TestApp {
  private constructor(readonly app: NestFastifyApplication) {}

  /** `controllers` adds probes of the test's own beside the app's routes (e.g. to see what a handler receives). */
  static async boot(overrides: ConfigOverrides = {}, logs?: LogCapture, extra: { controllers?: Array<Type<unknown>> } = {}): Promise<TestApp> {
    const base = parseConfig(process.env);
    const config: Config = { ...base, ...overrides, rateLimit: { ...base.rateLimit, ...overrides.rateLimit } };
    const logger = logs ? createRootLogger('test', 'info', logs) : createRootLogger('test', process.env.LOG_LEVEL);
    const moduleRef = await Test.createTestingModule({ imports: [AppModule], controllers: extra.controllers ?? [] })
      .overrideProvider(AppConfig)
      .useValue(config)
      .compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(logger, config), {
      rawBody: true,
      logger: new PinoNestLogger(logger),
    });
    configureHttpApp(app, logger);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return new TestApp(app);
  }

  async request<T = any>(method: string, url: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.app.inject({ method: method as 'GET', url, headers, payload, remoteAddress: options.remoteAddress });
    let body: unknown = undefined;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers as HttpResponse["headers"], body: body as T, text: response.body };
  }

  get<T = any>(url: string, token?: string) {
    return this.request<T>('GET', url, { token });
  }
  post<T = any>(url: string, body: unknown, token?: string) {
    return this.request<T>('POST', url, { body, token });
  }
  patch<T = any>(url: string, body: unknown, token?: string) {
    return this.request<T>('PATCH', url, { body, token });
  }
  delete<T = any>(url: string, token?: string) {
    return this.request<T>('DELETE', url, { token });
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
