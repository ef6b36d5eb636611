'use strict';
/**
 * Seeds the benchmark's users through the app's own services (not the UI), before the
 * server starts: node bench/seed.js <count> <out.json>, with the app's environment.
 *
 * Each user is created by UsersService.create and has 2FA active with a TOTP secret the
 * benchmark knows: the secret is sealed with the app's KeyRing exactly as the setup page
 * does (AES-256-GCM, associated data `totp:<user id>`) in an active TOTP device row. All users share one password hash made by the app's PasswordHasher: an
 * argon2id verification costs the same whatever the salt, and hashing 1,500 passwords
 * would only add a minute of seeding.
 */
require('reflect-metadata');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const DIST = join(__dirname, '..', 'dist');
const { NestFactory } = require('@nestjs/core');
const { DataSource } = require('typeorm');
const { AppModule } = require(join(DIST, 'app.module'));
const { AppConfig } = require(join(DIST, 'config', 'app-config'));
const { KeyRing } = require(join(DIST, 'common', 'crypto', 'key-ring'));
const { OrganizersService } = require(join(DIST, 'organizers', 'organizers.service'));
const { UsersService } = require(join(DIST, 'users', 'users.service'));
const { PasswordHasher } = require(join(DIST, 'users', 'password-hasher'));
const { passwordProblem } = require(join(DIST, 'users', 'password-policy'));
const { generateTotpSecret } = require(join(DIST, 'two-factor', 'totp'));
const { TotpDevice } = require(join(DIST, 'two-factor', 'totp-device.entity'));
const { User } = require(join(DIST, 'users', 'user.entity'));
const { randomUUID } = require('node:crypto');

const PASSWORD = 'Bench mark: sign-in speed 2026';

async function main() {
  const count = Number(process.argv[2]);
  const out = process.argv[3];
  if (!Number.isInteger(count) || count < 1 || !out) throw new Error('usage: node bench/seed.js <count> <out.json>');
  const config = AppConfig.fromEnv(process.env);
  const context = await NestFactory.createApplicationContext(AppModule.forRoot({ config }), {
    logger: ['error', 'warn'],
  });
  try {
    await context.get(DataSource).runMigrations({ transaction: 'each' });
    const problem = passwordProblem(PASSWORD, { email: 'bench@example.com', appName: config.appName });
    if (problem) throw new Error(`the benchmark password breaks the policy: ${problem}`);
    const passwordHash = await context.get(PasswordHasher).hash(PASSWORD);
    const keys = context.get(KeyRing);
    const usersService = context.get(UsersService);
    const organizer = await context.get(OrganizersService).create('Bench Events');
    const users = [];
    await usersService.transaction(async (manager) => {
      for (let i = 0; i < count; i++) {
        const user = await usersService.create(
          {
            organizerId: organizer.id,
            email: `bench${i}@example.com`,
            name: `Bench User ${i}`,
            role: 'member',
            twoFactorRequired: true,
          },
          manager,
        );
        const secret = generateTotpSecret();
        await manager.getRepository(User).update({ id: user.id }, { passwordHash });
        const devices = manager.getRepository(TotpDevice);
        await devices.insert(
          devices.create({
            id: randomUUID(),
            userId: user.id,
            slot: 'active',
            secretEnc: keys.encrypt(secret, `totp:${user.id}`),
            lastStep: null,
            confirmedAt: new Date(),
            createdAt: new Date(),
          }),
        );
        users.push({ email: user.email, secret });
      }
    });
    writeFileSync(out, JSON.stringify({ password: PASSWORD, users }));
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
