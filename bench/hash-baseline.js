'use strict';
/**
 * The hash baseline: argon2id hashes per second by @node-rs/argon2 with the app's own
 * parameters (ARGON2_OPTIONS of dist/users/password-hasher.js), `concurrency` at a time,
 * outside the app, for `seconds`. node bench/hash-baseline.js <seconds> <concurrency>;
 * prints JSON.
 *
 * The app lowers its hashing threads to a background niceness (yieldThreadsToEventLoop);
 * the baseline's threads get the same, through the same function, so that on a machine
 * busy with other work both sides compete for the CPU alike and the ratio measures the
 * app's own cost, not the neighbours'.
 */
const { hash } = require('@node-rs/argon2');
const { getPriority } = require('node:os');
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const hasher = require(join(__dirname, '..', 'dist', 'users', 'password-hasher'));

const { ARGON2_OPTIONS } = hasher;

async function main() {
  const seconds = Number(process.argv[2]);
  const concurrency = Number(process.argv[3]);
  if (!(seconds > 0) || !(concurrency > 0))
    throw new Error('usage: node bench/hash-baseline.js <seconds> <concurrency>');
  // One round first: the thread pool's threads and their 19 MiB blocks exist before timing.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => hash(`warm-up ${i}`, ARGON2_OPTIONS)));
  if (typeof hasher.yieldThreadsToEventLoop === 'function') hasher.yieldThreadsToEventLoop();
  const threadNice = readdirSync('/proc/self/task')
    .map(Number)
    .filter((thread) => thread !== process.pid)
    .map((thread) => getPriority(thread));
  let done = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      // Bounded: stops at the deadline (and at 100,000 hashes, far beyond any machine's seconds).
      for (let i = 0; i < 100000 && process.hrtime.bigint() < deadline; i++) {
        await hash(`password ${worker}-${i}`, ARGON2_OPTIONS);
        done += 1;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    JSON.stringify({
      hashes: done,
      concurrency,
      seconds: elapsed,
      perSecond: done / elapsed,
      threadNice,
      options: ARGON2_OPTIONS,
    }) + '\n',
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
