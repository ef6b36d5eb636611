import { ScureBase32Plugin } from 'otplib';

/** Decodes base32 for tests that check a secret's length in bytes. */
export function base32Decode(value: string): Uint8Array {
  return new ScureBase32Plugin().decode(value);
}
