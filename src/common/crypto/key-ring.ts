import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../../config/app-config';

/** What a derived key is for: one key per purpose, so no key serves two jobs. */
export const KEY_PURPOSES = [
  'totp-secret',
  'token-hash',
  'recovery-code',
  'session-cookie',
  'csrf',
  'attempt-counter',
  'device-cookie',
  'session-handle',
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

const VERSION = 'v1';

/**
 * All keys derived from APP_SECRET (HKDF-SHA-256), kept in memory only, never in the
 * database: a copy of the database alone cannot decrypt TOTP secrets (ASVS 2.9.1).
 */
@Injectable()
export class KeyRing {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(config: AppConfig) {
    for (const purpose of KEY_PURPOSES) {
      this.keys.set(purpose, Buffer.from(hkdfSync('sha256', config.appSecret, 'tixngo-backoffice', purpose, 32)));
    }
  }

  key(purpose: KeyPurpose): Buffer {
    return this.keys.get(purpose)!;
  }

  /** AES-256-GCM with a random 96-bit IV; the associated data binds the ciphertext to its owner. */
  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key('totp-secret'), iv);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** Throws when the ciphertext was altered, moved to another owner, or made with another key. */
  decrypt(sealed: string, associatedData: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('Unreadable ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', this.key('totp-secret'), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Keyed hash (hex) for values stored only as hashes: tokens, recovery codes, throttle keys. */
  hash(purpose: KeyPurpose, value: string): string {
    return createHmac('sha256', this.key(purpose)).update(value).digest('hex');
  }
}

/** A URL-safe random token with 256 bits of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string comparison (ASVS 2.8, SECURITY.md 10); different lengths compare unequal. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
