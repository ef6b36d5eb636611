'use strict';
/**
 * The hash baseline: argon2id hashes per second by @node-rs/argon2 with the app's own
 * parameters (ARGON2_OPTIONS of dist/users/password-hasher.js), `concurrency` at a time,
 * outside the app, for `seconds`. node bench/hash-baseline.js <seconds> <concurrency>;
 * prints JSON.
 */
const { hash } = require('@node-rs/argon2');
const { join } = require('node:path');
const { ARGON2_OPTIONS } = require(join(__dirname, '..', 'dist', 'users', 'password-hasher'));

async function main() {
  const seconds = Number(process.argv[2]);
  const concurrency = Number(process.argv[3]);
  if (!(seconds > 0) || !(concurrency > 0)) throw new Error('usage: node bench/hash-baseline.js <seconds> <concurrency>');
  // One round first: the thread pool's threads and their 19 MiB blocks exist before timing.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => hash(`warm-up ${i}`, ARGON2_OPTIONS)));
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
  process.stdout.write(JSON.stringify({ hashes: done, concurrency, seconds: elapsed, perSecond: done / elapsed, options: ARGON2_OPTIONS }) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
