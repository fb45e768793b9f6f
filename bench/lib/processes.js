'use strict';
/** Child processes of the bench (servers, Redis): spawned with their logs in the run directory, always cleaned up. */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const children = new Set();

/** A free TCP port on the loopback interface (asked of the kernel, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `command args` with its output in `<logDir>/<name>.log`. The returned handle knows its pid (the server
 * itself, never a shell or npm: its CPU time is what we read) and how to stop it.
 */
function start(name, command, args, { env, logDir, cwd }) {
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const handle = {
    name,
    logFile,
    child,
    pid: child.pid,
    exited: false,
    exitCode: null,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.once('exit', (code, signal) => {
    handle.exited = true;
    handle.exitCode = code ?? signal;
    children.delete(handle);
  });
  child.once('error', (error) => {
    handle.exited = true;
    handle.exitCode = String(error);
    children.delete(handle);
  });
  children.add(handle);
  return handle;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stop(handle, graceMs = 3000) {
  if (!handle || handle.exited) return;
  handle.child.kill('SIGTERM');
  const killed = await Promise.race([handle.exit.then(() => true), sleep(graceMs).then(() => false)]);
  if (!killed) {
    handle.child.kill('SIGKILL');
    await handle.exit;
  }
}

async function stopAll() {
  await Promise.all([...children].map((handle) => stop(handle)));
}

/** Last resort on process exit: synchronous, so only SIGKILL. */
function killAllNow() {
  for (const handle of children) {
    try {
      handle.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `probe` until it returns true; fails with the child's log if it exits or the time runs out (`what` may be a function: said at the end). */
async function waitUntil(handle, probe, { timeoutMs = 30000, what = 'ready' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (handle && handle.exited) {
      throw new Error(`${handle.name} exited (${handle.exitCode}) before it was ${typeof what === 'function' ? what() : what}:\n${tail(handle.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      if (error?.fatal) throw error;
      // not yet
    }
    if (Date.now() > deadline) {
      if (typeof what === 'function') what = what();
      throw new Error(`${handle ? handle.name : 'probe'} was not ${what} after ${timeoutMs} ms${handle ? `:\n${tail(handle.logFile)}` : ''}`);
    }
    await sleep(100);
  }
}

let clockTicks;
/** Kernel clock ticks per second, for /proc/<pid>/stat. */
function clkTck() {
  if (!clockTicks) clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** utime + stime of `pid`, in microseconds (fields 14 and 15 of /proc/<pid>/stat, after the command name). */
function cpuMicros(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clkTck();
}

module.exports = { freePort, sleep, start, stop, stopAll, killAllNow, waitUntil, cpuMicros, clkTck, tail };
