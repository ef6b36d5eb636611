import type { Request } from 'express';
import { Catalogue } from '../i18n/catalogue';
import { describeUserAgent as describe_, sessionClient, shownAddress, USER_AGENT_MAX } from './session-client';

const catalogue = Catalogue.load();
/** In English, as the catalogue says it. */
const describeUserAgent = (userAgent: string | undefined) =>
  describe_(userAgent, (key, values) => catalogue.format('en', key, values));

const UA = {
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
  chromeAndroid:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  chromeOs:
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
};

describe('describeUserAgent', () => {
  it.each([
    [UA.chromeMac, 'Chrome 120 on macOS'],
    [UA.firefoxWindows, 'Firefox 121 on Windows'],
    [UA.safariIphone, 'Safari 17 on iOS'],
    [UA.edgeWindows, 'Edge 120 on Windows'],
    [UA.chromeAndroid, 'Chrome 120 on Android'],
    [UA.firefoxLinux, 'Firefox 120 on Ubuntu'],
    [UA.chromeOs, 'Chrome 120 on ChromeOS'],
  ])('names the browser, its major version and the system: %s', (userAgent, expected) => {
    expect(describeUserAgent(userAgent)).toBe(expected);
  });

  it('says "Unknown browser" when the User-Agent names none (a script, an empty or missing header)', () => {
    expect(describeUserAgent('curl/8.4.0')).toBe('Unknown browser');
    expect(describeUserAgent('')).toBe('Unknown browser');
    expect(describeUserAgent(undefined)).toBe('Unknown browser');
    expect(describeUserAgent('(Windows NT 10.0)')).toBe('Unknown browser on Windows');
  });

  it('drops control characters and keeps a made-up browser name short', () => {
    const description = describeUserAgent(`Mozilla/5.0 (Windows NT 10.0) Firefox/1${'2'.repeat(200)}\u0007`);
    expect(description).not.toMatch(/\p{Cc}/u);
    expect(description.length).toBeLessThanOrEqual(60);
  });
});

describe('sessionClient', () => {
  const request = (headers: Record<string, string>, ip?: string) => ({ headers, ip }) as unknown as Request;

  it('keeps the User-Agent, cut to USER_AGENT_MAX characters, and the address Express gives (TRUST_PROXY applied)', () => {
    expect(sessionClient(request({ 'user-agent': UA.firefoxWindows }, '203.0.113.9'))).toEqual({
      userAgent: UA.firefoxWindows,
      ip: '203.0.113.9',
    });
    const long = sessionClient(request({ 'user-agent': 'x'.repeat(5000) }, '::1'));
    expect(long.userAgent).toHaveLength(USER_AGENT_MAX);
  });

  it('keeps an empty User-Agent and no address when the request has none', () => {
    expect(sessionClient(request({}))).toEqual({ userAgent: '', ip: null });
  });
});

describe('shownAddress', () => {
  it('shows IPv4 on a dual-stack socket as plain IPv4, and anything else as it is', () => {
    expect(shownAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(shownAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(shownAddress('198.51.100.4')).toBe('198.51.100.4');
    expect(shownAddress(null)).toBeNull();
  });
});
