import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');

export interface ApiProcess {
  url: string;
  /** What the process wrote (its warn and error lines, and stderr). */
  output(): string;
  request<T = any>(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/**
 * The built API (`npm run build`) as a process of its own on the run's database and Redis: what a second replica is.
 * Refuses to run a build older than the sources, which would test code that no longer exists.
 */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  assertBuildIsFresh();
  // A given PORT is kept: a caller that had to name the URL before the process started (the simulators' emit target).
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, child, () => stderr + stdout.slice(-3000));
  return {
    url,
    output: () => stdout + stderr,
    async request(method, path, options = {}) {
      const response = await fetch(url + path, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    stop: () => stopProcess(child),
  };
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  let last = 'no answer';
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the API process exited (${child.exitCode}): ${stderr()}`);
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String((error as { cause?: unknown }).cause ?? error); // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopProcess(child);
  throw new Error(`the API process did not become ready (last health answer: ${last}): ${stderr()}`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function assertBuildIsFresh(): void {
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    throw new Error('No build to start: run `npm run build` first (`npm test` does)');
  }
  const newest = Math.max(...['apps', 'libs'].map((dir) => newestSource(join(ROOT, dir))));
  if (newest > built) throw new Error('The build is older than the sources: run `npm run build` first (`npm test` does)');
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}
