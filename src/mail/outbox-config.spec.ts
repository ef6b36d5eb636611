import { AppConfig, ConfigError } from '../config/app-config';

const env = (extra: Record<string, string>) => ({
  APP_SECRET: 'x'.repeat(40),
  DATA_DIR: '/tmp/tixngo-config-test',
  ...extra,
});

describe('the outbox settings (OUTBOX_POLL_MS, OUTBOX_LEASE_MS)', () => {
  it('default to a 2 s poll and a 2 min lease', () => {
    const config = AppConfig.fromEnv(env({}));
    expect(config.outboxPollMs).toBe(2000);
    expect(config.outboxLeaseMs).toBe(120_000);
  });

  it('take whole numbers in range and refuse anything else with one line naming the variable', () => {
    expect(AppConfig.fromEnv(env({ OUTBOX_POLL_MS: '500', OUTBOX_LEASE_MS: '60000' }))).toMatchObject({
      outboxPollMs: 500,
      outboxLeaseMs: 60_000,
    });
    for (const [name, value] of [
      ['OUTBOX_POLL_MS', '0'],
      ['OUTBOX_POLL_MS', '2s'],
      ['OUTBOX_POLL_MS', '600001'],
      ['OUTBOX_LEASE_MS', '999'],
      ['OUTBOX_LEASE_MS', '-5'],
    ]) {
      expect(() => AppConfig.fromEnv(env({ [name]: value }))).toThrow(ConfigError);
      expect(() => AppConfig.fromEnv(env({ [name]: value }))).toThrow(name);
    }
  });
});
