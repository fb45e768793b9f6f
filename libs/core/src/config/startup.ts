import { existsSync } from 'node:fs';
import { Config, ConfigError, parseConfig } from './config';

/** A start-up failure an operator can fix: printed as its message, without a stack trace. */
export class StartupError extends Error {}

/** Loads .env (if any) and validates the configuration before anything else, so a bad value ends in one clear line. */
export function loadConfigOrExit(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return parseConfig(process.env);
  } catch (error) {
    exitWith(error);
  }
}

export function exitWith(error: unknown): never {
  if (error instanceof ConfigError || error instanceof StartupError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Start-up failed: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
}
