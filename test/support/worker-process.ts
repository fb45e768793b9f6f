import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { assertBuildIsFresh, freePort } from './api-process';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'worker', 'src', 'main.js');

/** The built worker (`npm run build`) as a process of its own: what runs in production, and what a SIGKILL stops dead. */
export class WorkerProcess {
  private child?: ChildProcess;
  private log = '';

  constructor(private readonly env: Record<string, string>) {}

  /** What the process wrote (its warn and error lines, and stderr), across restarts. */
  output(): string {
    return this.log;
  }

  /** Starts it and waits until its health port says PostgreSQL and Redis answer. */
  async start(): Promise<void> {
    assertBuildIsFresh();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...this.env, WORKER_HEALTH_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}): ${this.log.slice(-2000)}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the worker did not become ready: ${this.log.slice(-2000)}`);
  }

  /** Stops it with `signal` (SIGKILL: no shutdown hook runs, its active jobs are left mid-flight) and waits for the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}
