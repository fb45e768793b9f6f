// `npm start`, after the build and the migrations: the API, the worker and, unless SIMULATORS=off, the simulated
// external services, side by side; stopping one stops them all.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

if (fs.existsSync('.env')) process.loadEnvFile('.env');
const processes = [
  ['api', 'node dist/apps/api/src/main.js'],
  ['worker', 'node dist/apps/worker/src/main.js'],
];
if ((process.env.SIMULATORS ?? 'on').trim() !== 'off') processes.push(['simulators', 'node dist/apps/simulators/src/main.js']);
else console.log('SIMULATORS=off: the simulated external services are not started');

const bin = path.join(__dirname, '..', 'node_modules', '.bin', 'concurrently');
const child = spawn(
  bin,
  ['-k', '-n', processes.map(([name]) => name).join(','), '-c', 'blue,magenta,green', ...processes.map(([, command]) => command)],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
