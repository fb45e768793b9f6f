import { ChildProcess, spawn } from 'node:child_process';
import { eventually } from './integrations';

/**
 * A Redis of a test's own, on another port, without persistence: stopping it leaves the machine's Redis (and other
 * tests) alone, and starting it again gives an empty one, as a crashed Redis without a dump would.
 */
export class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const probe = spawn('redis-cli', ['-p', String(this.port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
          let out = '';
          probe.stdout!.on('data', (chunk) => (out += chunk));
          probe.on('close', () => resolve(out.trim() === 'PONG'));
        }),
      (up) => up,
      5000,
      50,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
