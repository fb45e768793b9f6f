import { existsSync } from 'node:fs';
import { createAzureAdSimulator, createOktaSimulator, DEFAULT_AZURE_AD_TENANT_ID } from './idps';
import { DEFAULT_SEED } from './service-simulator';
import { createCommunicationService, createPaymentService, createUserService } from './services';

/** What main needs of a simulator: the service simulators and the identity providers alike. */
interface Simulator {
  listen(port: number, host: string): Promise<{ url: string; issuer?: string }>;
  close(): Promise<void>;
}

function portFrom(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${variable} must be a port number (0-65535), got "${raw}"\n`);
    process.exit(1);
  }
  return port;
}

/** Starts the three service simulators and the two identity providers; each logs one line with its URL. Settings come from .env, like the API's. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const host = process.env.SIMULATORS_HOST || '127.0.0.1';
  const seed = process.env.SIMULATOR_SEED || DEFAULT_SEED;
  // Where POST /__control/emit sends webhook events: the API this process runs beside, unless told otherwise.
  const platformUrl = process.env.PLATFORM_URL || process.env.PUBLIC_URL || `http://127.0.0.1:${process.env.PORT || 3000}`;
  const options = { seed, platformUrl };
  const tenantId = process.env.AZURE_AD_TENANT_ID || DEFAULT_AZURE_AD_TENANT_ID;
  const simulators: Array<[string, Simulator, number]> = [
    ['user-service', createUserService(options), portFrom('USER_SERVICE_PORT', 4001)],
    ['payment-service', createPaymentService(options), portFrom('PAYMENT_SERVICE_PORT', 4002)],
    ['communication-service', createCommunicationService(options), portFrom('COMMUNICATION_SERVICE_PORT', 4003)],
    ['azure-ad', createAzureAdSimulator({ tenantId }), portFrom('AZURE_AD_PORT', 4010)],
    ['okta', createOktaSimulator(), portFrom('OKTA_PORT', 4011)],
  ];
  const stop = async (signal: string) => {
    await Promise.allSettled(simulators.map(([, simulator]) => simulator.close()));
    process.stdout.write(JSON.stringify({ msg: 'simulators stopped', signal }) + '\n');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  for (const [name, simulator, port] of simulators) {
    const { url, issuer } = await simulator.listen(port, host);
    const line = issuer ? { msg: `${name} listening`, name, url, issuer } : { msg: `${name} listening`, name, url, seed, platformUrl };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`simulators failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
