import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { BACKGROUND_NICE, PasswordHasher } from './password-hasher';

const otherThreads = () =>
  readdirSync('/proc/self/task')
    .map(Number)
    .filter((thread) => thread !== process.pid);

describe('PasswordHasher', () => {
  describe('onModuleInit', () => {
    const linux = process.platform === 'linux' ? it : it.skip;

    linux('lowers every thread but the event loop, the hash pool included, to the background niceness', async () => {
      const mainBefore = getPriority(process.pid);
      await new PasswordHasher().onModuleInit();
      const threads = otherThreads();
      // 4 libuv pool threads (started by the dummy hash) at least, besides V8's own.
      expect(threads.length).toBeGreaterThanOrEqual(4);
      for (const thread of threads) expect(getPriority(thread)).toBeGreaterThanOrEqual(BACKGROUND_NICE);
      expect(getPriority(process.pid)).toBe(mainBefore);
    });
  });

  describe('verify', () => {
    it('accepts the password of a hash it made and refuses another one or no hash', async () => {
      const hasher = new PasswordHasher();
      await hasher.onModuleInit();
      const stored = await hasher.hash('correct horse battery staple');
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      await expect(hasher.verify(stored, 'correct horse battery staple')).resolves.toBe(true);
      await expect(hasher.verify(stored, 'correct horse battery stapl')).resolves.toBe(false);
      await expect(hasher.verify(null, 'correct horse battery staple')).resolves.toBe(false);
    });
  });
});
