import AxeBuilder from '@axe-core/playwright';
import jsQR from 'jsqr';
import { simpleParser } from 'mailparser';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { deliverMail } from '../../utils/mail';
import { ManualClock } from '../../utils/manual-clock';
import { timeStep, totpCode } from '../../../src/two-factor/totp';
import { createTestApp, TestApp, TestAppOptions } from '../../utils/test-app';

/** Debian's Chromium (`apt-get install chromium`); Playwright never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(__dirname, '..', 'screenshots');
export const PHONE = { width: 360, height: 780 };
export const LAPTOP = { width: 1280, height: 800 };

export interface BrowserApp extends TestApp {
  baseUrl: string;
}

/**
 * The real app (createTestApp) listening on a free port of 127.0.0.1, so a browser can reach it.
 * `atPublicUrl`: the app's PUBLIC_URL is the address the browser uses (http://localhost:<port>),
 * as WebAuthn needs: the relying party is PUBLIC_URL's host, and the browser checks it.
 */
export async function startBrowserApp(options: TestAppOptions & { atPublicUrl?: boolean } = {}): Promise<BrowserApp> {
  const port = options.atPublicUrl ? await freePort() : 0;
  const env = options.atPublicUrl ? { ...options.env, PUBLIC_URL: `http://localhost:${port}` } : options.env;
  const t = await createTestApp({ ...options, env });
  await new Promise<void>((resolve, reject) => {
    t.server.once('error', reject);
    t.server.listen(port, '127.0.0.1', () => resolve());
  });
  const listening = (t.server.address() as AddressInfo).port;
  return Object.assign(t, {
    baseUrl: options.atPublicUrl ? `http://localhost:${listening}` : `http://127.0.0.1:${listening}`,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH).`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

const scriptErrors = new WeakMap<Page, Error[]>();

/** A fresh browser profile (cookies, clipboard) at laptop size, as a person opening the app; `locale` sets its Accept-Language. */
export async function newPerson(
  browser: Browser,
  app: BrowserApp,
  locale = 'en-GB',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: app.baseUrl,
    viewport: LAPTOP,
    locale,
    timezoneId: 'UTC',
    acceptDownloads: true,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  scriptErrors.set(page, errors);
  return { context, page };
}

/** Another tab of the same browser profile, watched for script errors like the first. */
export async function newTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  scriptErrors.set(page, errors);
  return page;
}

/**
 * Checks the page as a reviewer would: axe-core finds no violation (all rules axe runs
 * by default, WCAG 2.x A/AA and best practices), it fits a 360 px phone without sideways
 * scrolling, and a screenshot at both sizes is saved as screenshots/<name>-{1280,360}.png.
 */
export async function reviewPage(page: Page, name: string, options: { darkToo?: boolean } = {}): Promise<void> {
  await page.waitForLoadState('load');
  // A page's own script failing is a bug too.
  const errors = scriptErrors.get(page) ?? [];
  if (errors.length) throw new Error(`${name}: script error in the page: ${errors.map((e) => e.message).join('; ')}`);
  await expectNoAxeViolations(page, name);
  await expectLabelledFields(page, name);
  await snap(page, `${name}-1280`);
  const laptop = page.viewportSize() ?? LAPTOP;
  await page.setViewportSize(PHONE);
  // Resize events run before the next frames: the page has adapted once two frames passed.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  try {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) throw new Error(`${name}: ${overflow}px wider than a 360 px phone (sideways scrolling)`);
    await expectNoAxeViolations(page, `${name} at 360 px`);
    await snap(page, `${name}-360`);
    if (options.darkToo) {
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectNoAxeViolations(page, `${name} (dark)`);
      await snap(page, `${name}-360-dark`);
      await page.emulateMedia({ colorScheme: 'light' });
    }
  } finally {
    await page.setViewportSize(laptop);
  }
}

export async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const report = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\n/g, ' ')}`).join('\n'),
  );
  if (report.length)
    throw new Error(`axe found ${report.length} violation(s) on ${name} (${page.url()}):\n${report.join('\n')}`);
}

/** Every field has a real `<label for>`; password fields say which password they want (autocomplete). */
export async function expectLabelledFields(page: Page, name: string): Promise<void> {
  const problems = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement>('input, select, textarea'))
      .filter((field) => field.type !== 'hidden' && !field.hidden)
      .flatMap((field) => {
        const found: string[] = [];
        const label = field.id ? document.querySelector(`label[for="${CSS.escape(field.id)}"]`) : null;
        if (!label?.textContent?.trim()) found.push(`${field.outerHTML.slice(0, 80)} has no <label for>`);
        if (field.type === 'password' && !['current-password', 'new-password'].includes(field.autocomplete)) {
          found.push(`password field #${field.id} has autocomplete="${field.autocomplete}"`);
        }
        return found;
      }),
  );
  if (problems.length) throw new Error(`${name}: ${problems.join('; ')}`);
}

export async function snap(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Reads a QR code the way a phone would: from a screenshot of the element as rendered. */
export async function readQrCode(image: Locator): Promise<string> {
  const png = PNG.sync.read(await image.screenshot());
  const decoded = jsQR(
    new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
    png.width,
    png.height,
  );
  if (!decoded) throw new Error('The QR code in the screenshot could not be read');
  return decoded.data;
}

/** Whether a border of `width` px around the screenshot is all white (the quiet zone). */
export async function quietZoneIsWhite(image: Locator, width: number): Promise<boolean> {
  const png = PNG.sync.read(await image.screenshot());
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const inBorder = x < width || y < width || x >= png.width - width || y >= png.height - width;
      // The outermost pixel is the CSS border of the image; look inside it.
      if (!inBorder || x < 2 || y < 2 || x >= png.width - 2 || y >= png.height - 2) continue;
      const i = (y * png.width + x) * 4;
      if (png.data[i] < 200 || png.data[i + 1] < 200 || png.data[i + 2] < 200) return false;
    }
  }
  return true;
}

/** The secret of an otpauth:// URI. */
export function secretOf(uri: string): string {
  const url = new URL(uri);
  if (url.protocol !== 'otpauth:') throw new Error(`Not an otpauth URI: ${uri}`);
  return url.searchParams.get('secret')!;
}

/** The code an authenticator app would show now, by the app's own TOTP and its clock. */
export function authenticatorCode(secret: string, clock: ManualClock): string {
  return totpCode(secret, timeStep(clock.now()));
}

/** The newest email to `to` in the .eml outbox (DATA_DIR/mail), parsed, after the due ones are delivered; `subject` narrows it down. */
export async function latestMailTo(
  app: TestApp,
  to: string,
  subject?: RegExp,
): Promise<{ subject: string; text: string; html: string }> {
  await deliverMail(app);
  const dir = app.config.mailDir;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
  const newestFirst = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of newestFirst) {
    const mail = await simpleParser(readFileSync(file));
    const recipients = [mail.to]
      .flat()
      .flatMap((a) => a?.value ?? [])
      .map((a) => a.address?.toLowerCase());
    if (!recipients.includes(to.toLowerCase())) continue;
    if (subject && !subject.test(mail.subject ?? '')) continue;
    return { subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : '' };
  }
  throw new Error(`No email to ${to}${subject ? ` matching ${subject}` : ''} in ${dir}`);
}

/** The path of the first link into the app in a text, to open on the test server (links use PUBLIC_URL). */
export function appPathIn(text: string, publicUrl: string, prefix: string): string {
  const escaped = publicUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = text.match(new RegExp(`${escaped}(${prefix}[^\\s"<>]+)`));
  if (!match) throw new Error(`No link ${publicUrl}${prefix}… in:\n${text}`);
  return match[1];
}
