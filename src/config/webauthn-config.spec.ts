import { AppConfig } from './app-config';

describe('AppConfig.webauthn', () => {
  const config = (publicUrl: string) =>
    AppConfig.fromEnv({
      NODE_ENV: 'test',
      APP_SECRET: 'unit-test-secret-0123456789abcdef0123456789',
      DATA_DIR: '/tmp/unused',
      PUBLIC_URL: publicUrl,
    });

  it('takes the relying party id and the one origin from PUBLIC_URL', () => {
    expect(config('https://backoffice.example.com/').webauthn).toEqual({
      rpId: 'backoffice.example.com',
      origin: 'https://backoffice.example.com',
    });
    expect(config('http://localhost:3000').webauthn).toEqual({ rpId: 'localhost', origin: 'http://localhost:3000' });
    expect(config('https://example.com:8443/backoffice').webauthn).toEqual({
      rpId: 'example.com',
      origin: 'https://example.com:8443',
    });
  });
});
