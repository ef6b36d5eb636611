'use strict';
/**
 * Preloaded into the app by the bench only (node --expose-gc --require …/app-hook.js
 * dist/main.js), driven over the child-process IPC channel; it changes nothing else:
 *  - "gc": a full garbage collection, then answers with process.memoryUsage(), so the RSS
 *    figure compares retained memory rather than wherever the last GC happened to be;
 *  - {profile: "start"} / {profile: "stop", file}: a V8 CPU profile of one phase only
 *    (node --cpu-prof would also record the start-up), written as a .cpuprofile.
 */
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');

if (process.send) {
  let session = null;
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );

  process.on('message', async (message) => {
    try {
      if (message === 'gc') {
        global.gc?.();
        global.gc?.();
        process.send({ memoryUsage: process.memoryUsage() });
      } else if (message && message.profile === 'start') {
        session = new inspector.Session();
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 200 });
        await post('Profiler.start');
        process.send({ profiling: true });
      } else if (message && message.profile === 'stop') {
        const { profile } = await post('Profiler.stop');
        session.disconnect();
        session = null;
        writeFileSync(message.file, JSON.stringify(profile));
        process.send({ profiled: message.file });
      }
    } catch (error) {
      process.send({ error: String(error) });
    }
  });
  process.channel?.unref();
}
