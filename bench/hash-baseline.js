'use strict';
/**
 * The hash baseline: argon2id hashes per second by @node-rs/argon2 with the app's own
 * parameters (ARGON2_OPTIONS of dist/users/password-hasher.js), `concurrency` at a time,
 * outside the app. node bench/hash-baseline.js <count> <concurrency>; prints JSON.
 */
const { hash } = require('@node-rs/argon2');
const { join } = require('node:path');
const { ARGON2_OPTIONS } = require(join(__dirname, '..', 'dist', 'users', 'password-hasher'));

async function main() {
  const count = Number(process.argv[2]);
  const concurrency = Number(process.argv[3]);
  // One round first: the thread pool's threads and their 19 MiB blocks exist before timing.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => hash(`warm-up ${i}`, ARGON2_OPTIONS)));
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        await hash(`password number ${next}`, ARGON2_OPTIONS);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(JSON.stringify({ count, concurrency, seconds, perSecond: count / seconds, options: ARGON2_OPTIONS }) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
