import type { Request } from 'express';
import { UAParser } from 'ua-parser-js';
import type { SessionClient } from './session-state';

/** How much of a User-Agent a session keeps: enough for any real browser, no more (a header can be 8 kB). */
export const USER_AGENT_MAX = 300;

/** The longest description shown or audited (a User-Agent names its own browser, in any length). */
const DESCRIPTION_MAX = 60;

/**
 * The browser a sign-in came from: its User-Agent, cut to USER_AGENT_MAX, and its address as
 * the limiter and the audit log see it (`req.ip`, which honours TRUST_PROXY).
 */
export function sessionClient(req: Request): SessionClient {
  const header = req.headers['user-agent'];
  return { userAgent: typeof header === 'string' ? header.slice(0, USER_AGENT_MAX) : '', ip: req.ip ?? null };
}

/** What people call the systems ua-parser-js names otherwise. */
const OS_NAMES: Record<string, string> = {
  'Mac OS': 'macOS',
  'Chromium OS': 'ChromeOS',
};

/** Writes a message (I18n.t in a language): the words of a description come from the catalogue. */
export type Say = (key: string, values?: Record<string, string>) => string;

/**
 * A session's browser as "Chrome 120 on macOS" (browser, major version, system), parsed with
 * ua-parser-js; "Unknown browser" when the User-Agent names none; the words in `say`'s language.
 */
export function describeUserAgent(userAgent: string | undefined, say: Say): string {
  const { browser, os } = new UAParser(userAgent ?? '').getResult();
  // "Mobile Safari", "Mobile Firefox": the system already says it is a phone.
  const name = clean(browser.name).replace(/^Mobile /, '');
  const major = clean(browser.major);
  const system = clean(os.name);
  const shownBrowser = name ? (major ? `${name} ${major}` : name) : say('device.unknownBrowser');
  const description = system
    ? say('device.browserOnSystem', { browser: shownBrowser, system: OS_NAMES[system] ?? system })
    : shownBrowser;
  return description.length > DESCRIPTION_MAX ? description.slice(0, DESCRIPTION_MAX - 1) + '…' : description;
}

/** A client address as people read it: IPv4 on a dual-stack socket (`::ffff:1.2.3.4`) as plain IPv4. */
export function shownAddress(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  return mapped ? mapped[1] : ip;
}

/** A parsed part as text: control characters dropped, spaces collapsed. */
function clean(value: string | undefined): string {
  return (value ?? '')
    .replace(/\p{Cc}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}
