'use strict';
/**
 * The built app (dist/main.js) in a child process, as run.js and growth.js start it: its own
 * event loop, so the bench's client loop never shares the app's (SQLite's driver is
 * synchronous: a long query there stalls the app, and must be seen to). Also the small
 * process helpers both need: free ports, stopping children, /proc figures, the IPC hook.
 */
const { spawn } = require('node:child_process');
const { openSync, closeSync, readFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { setTimeout, clearTimeout } = require('node:timers');
const { request } = require('./http');

const ROOT = join(__dirname, '..', '..');
const DIST_MAIN = join(ROOT, 'dist', 'main.js');

/**
 * `node dist/main.js` with `env` (which sets PORT), its output in <dataDir>/app.log, preloaded
 * with app-hook.js (GC and profiles over IPC); resolves once /healthz answers 200.
 */
async function startApp(env, dataDir, port, log = () => undefined) {
  const logFile = join(dataDir, 'app.log');
  const fd = openSync(logFile, 'a');
  const nodeArgs = ['--expose-gc', '--require', join(__dirname, 'app-hook.js')];
  const child = spawn(process.execPath, [...nodeArgs, DIST_MAIN], { cwd: ROOT, env, stdio: ['ignore', fd, fd, 'ipc'] });
  closeSync(fd);
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  for (let i = 0; i < 150; i++) {
    if (exited) throw new Error(`the app exited at start (${JSON.stringify(exited)}):\n${tail(logFile)}`);
    try {
      const res = await request({ port, path: '/healthz' });
      if (res.status === 200) {
        log(`app pid ${child.pid} on 127.0.0.1:${port}`);
        return { child, logFile };
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the app did not answer /healthz within 15 s:\n${tail(logFile)}`);
}

/** SIGTERM, then SIGKILL if the process is still there after 10 s. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

/** Runs `node <args>` to the end; resolves with its stdout, rejects with its stderr. */
function runNode(nodeArgs, env, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${code}):\n${err || out}`)),
    );
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The resident memory of a process now, in MB (/proc, as the kernel counts it). */
function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/^VmRSS:\s+(\d+)\s+kB/m)[1]);
  return kb / 1024;
}

/** Sends a message to bench/lib/app-hook.js in the app (a child of startApp) and waits for its answer. */
function askApp(child, message) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the app did not answer ${JSON.stringify(message)} within 30 s`)),
      30000,
    );
    child.once('message', (answer) => {
      clearTimeout(timer);
      if (answer.error) reject(new Error(`app hook: ${answer.error}`));
      else resolve(answer);
    });
    child.send(message);
  });
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

module.exports = { ROOT, DIST_MAIN, startApp, stopChild, runNode, freePort, rssMb, askApp, tail };
