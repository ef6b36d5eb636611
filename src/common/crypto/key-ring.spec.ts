import { AppConfig } from '../../config/app-config';
import { constantTimeEqual, KeyRing } from './key-ring';

const ring = (secret: string) => new KeyRing({ appSecret: secret } as AppConfig);

describe('KeyRing', () => {
  const keys = ring('a'.repeat(40));

  describe('encrypt / decrypt', () => {
    it('round-trips and never stores the plaintext', () => {
      const sealed = keys.encrypt('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'totp:user-1');
      expect(sealed).not.toContain('JBSWY3DP');
      expect(keys.decrypt(sealed, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    });

    it('uses a fresh IV each time', () => {
      expect(keys.encrypt('same', 'x')).not.toBe(keys.encrypt('same', 'x'));
    });

    it('detects tampering with the ciphertext, IV or tag', () => {
      const sealed = keys.encrypt('secret', 'totp:user-1');
      const parts = sealed.split('.');
      for (const index of [1, 2, 3]) {
        const altered = [...parts];
        const bytes = Buffer.from(altered[index], 'base64url');
        bytes[0] ^= 1;
        altered[index] = bytes.toString('base64url');
        expect(() => keys.decrypt(altered.join('.'), 'totp:user-1')).toThrow();
      }
    });

    it('refuses a ciphertext moved to another user (associated data)', () => {
      const sealed = keys.encrypt('secret', 'totp:user-1');
      expect(() => keys.decrypt(sealed, 'totp:user-2')).toThrow();
    });

    it('refuses a ciphertext made with another APP_SECRET', () => {
      const sealed = keys.encrypt('secret', 'totp:user-1');
      expect(() => ring('b'.repeat(40)).decrypt(sealed, 'totp:user-1')).toThrow();
    });
  });

  describe('hash', () => {
    it('is keyed and separated by purpose', () => {
      expect(keys.hash('token-hash', 'abc')).toBe(keys.hash('token-hash', 'abc'));
      expect(keys.hash('token-hash', 'abc')).not.toBe(keys.hash('recovery-code', 'abc'));
      expect(keys.hash('token-hash', 'abc')).not.toBe(ring('b'.repeat(40)).hash('token-hash', 'abc'));
    });
  });
});

describe('constantTimeEqual', () => {
  it('compares exactly', () => {
    expect(constantTimeEqual('123456', '123456')).toBe(true);
    expect(constantTimeEqual('123456', '123457')).toBe(false);
    expect(constantTimeEqual('123456', '1234567')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
