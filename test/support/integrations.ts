import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { AppConfig, Config, INTEGRATION_PROVIDERS, IntegrationPolicyConfig, IntegrationProvider, parseConfig } from '@tenantry/core';
import { createCommunicationService, createPaymentService, createUserService } from '../../apps/simulators/src/services';
import { ServiceSimulator } from '../../apps/simulators/src/service-simulator';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { ConfigOverrides } from './app';

export interface RunningSimulator {
  provider: IntegrationProvider;
  url: string;
  simulator: ServiceSimulator;
  /** Requests that reached it (every route but /__control and /health), counted by the test itself. */
  requests(): number;
  control(faults: Record<string, unknown>): Promise<void>;
  http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export type Simulators = Record<IntegrationProvider, RunningSimulator>;

const FACTORIES = { 'user-service': createUserService, 'payment-service': createPaymentService, 'communication-service': createCommunicationService };

/** The three service simulators, in-process on free ports. */
export async function startSimulators(seed = 'tenantry-test', platformUrl?: string): Promise<Simulators> {
  const entries = await Promise.all(
    INTEGRATION_PROVIDERS.map(async (provider) => {
      const simulator = FACTORIES[provider]({ seed, platformUrl });
      let count = 0;
      simulator.app.addHook('onRequest', async (request) => {
        if (!request.url.startsWith('/__control') && !request.url.startsWith('/health')) count += 1;
      });
      const { url } = await simulator.listen(0);
      const http = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      };
      const running: RunningSimulator = {
        provider,
        url,
        simulator,
        requests: () => count,
        control: async (faults) => {
          const answer = await http('POST', '/__control', faults);
          if (answer.status !== 200) throw new Error(`control failed: ${answer.status}`);
        },
        http,
      };
      return [provider, running] as const;
    }),
  );
  return Object.fromEntries(entries) as Simulators;
}

export async function stopSimulators(simulators: Simulators): Promise<void> {
  await Promise.all(Object.values(simulators).map((running) => running.simulator.close()));
}

/** Config pointing every client at the simulators, with a tight policy so that failures show in seconds. */
export function integrationOverrides(simulators: Simulators, policy: Partial<IntegrationPolicyConfig> = {}, breakerHalfOpenMs = 1000): ConfigOverrides {
  const base = parseConfig(process.env);
  const integrations = Object.fromEntries(
    INTEGRATION_PROVIDERS.map((provider) => [
      provider,
      { ...base.integrations[provider], timeoutMs: 500, maxAttempts: 3, retryBaseMs: 10, breakerFailures: 3, bulkhead: 10, ...policy, url: simulators[provider].url },
    ]),
  ) as Config['integrations'];
  // Queues of their own: another test file's worker, running at the same time, must not take this file's jobs.
  return { integrations, breakerHalfOpenMs, redisPrefix: `${base.redisPrefix}:${randomBytes(3).toString('hex')}` };
}

/** The worker's module in-process, with its processors consuming the run's queues. */
export class TestWorker {
  private constructor(readonly module: TestingModule) {}

  static async boot(overrides: ConfigOverrides = {}): Promise<TestWorker> {
    const base = parseConfig(process.env);
    const config: Config = { ...base, ...overrides, rateLimit: { ...base.rateLimit, ...overrides.rateLimit } };
    const module = await Test.createTestingModule({ imports: [WorkerModule] }).overrideProvider(AppConfig).useValue(config).compile();
    await module.init();
    return new TestWorker(module);
  }

  get<T>(token: new (...args: never[]) => T): T {
    return this.module.get(token, { strict: false });
  }

  close(): Promise<void> {
    return this.module.close();
  }
}

/** Polls `probe` until `done` holds for its value, or fails after `timeoutMs` with the last value. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    last = await probe();
  }
  return last;
}

export { freePort } from './api-process';
