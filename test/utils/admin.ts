import { ManualClock } from './manual-clock';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, Person } from './agent';
import { createUser, DEFAULT_PASSWORD, TestApp } from './test-app';

/** A person signed in with email and password only (2FA off), ready for the pages. */
export async function signedIn(t: TestApp, user: User, password = DEFAULT_PASSWORD): Promise<Person> {
  const person = new Person(t.server);
  const login = await person.login(user.email, password);
  if (login.status !== 303 || login.headers.location !== '/') {
    throw new Error(`login of ${user.email} answered ${login.status} ${login.headers.location ?? ''}`);
  }
  return person;
}

/** An admin of `organizer` (2FA off, so one step to sign in) and their browser. */
export async function adminOf(
  t: TestApp,
  organizer = 'Acme Events',
  name = 'Alice Admin',
): Promise<{ admin: User; person: Person }> {
  const admin = await createUser(t, { organizer, role: 'admin', twoFactor: false, name });
  return { admin, person: await signedIn(t, admin) };
}

/** A 6-digit code that the authenticator does not show around now (not T-1, T or T+1). */
export function wrongCode(secret: string, clock: ManualClock): string {
  const near = new Set([-1, 0, 1].map((steps) => codeAt(secret, clock, steps)));
  for (let n = 0; ; n++) {
    const code = String(123456 + n * 7919)
      .padStart(6, '0')
      .slice(-6);
    if (!near.has(code)) return code;
  }
}

/** The hidden fields of the form posting to `action` in a page (what a browser would send). */
export function hiddenFields(html: string, action: string): Record<string, string> {
  const form = formHtml(html, action);
  const fields: Record<string, string> = {};
  for (const input of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = input[0].match(/name="([^"]+)"/)?.[1];
    const value = input[0].match(/value="([^"]*)"/)?.[1] ?? '';
    if (name) fields[name] = decode(value);
  }
  return fields;
}

/** Whether the page has a form posting to `action` with a submit button labelled `label`. */
export function hasButton(html: string, action: string, label: string): boolean {
  try {
    return new RegExp(`<button[^>]*type="submit"[^>]*>\\s*${label}\\s*</button>`).test(formHtml(html, action));
  } catch {
    return false;
  }
}

/** Clicks the button of the form posting to `action` on `page`: its hidden fields, plus `extra`. */
export async function press(person: Person, page: string, action: string, extra: Record<string, string> = {}) {
  const html = (await person.get(page)).text;
  return person.agent
    .post(action)
    .type('form')
    .send({ ...hiddenFields(html, action), ...extra, _csrf: csrfFrom(html) })
    .redirects(0);
}

/**
 * A confirmed button of a user's page: press it (the confirmation step appears, nothing
 * changes yet), then press the button of the confirmation page. Returns both answers.
 */
export async function pressAndConfirm(
  person: Person,
  page: string,
  action: string,
  extra: Record<string, string> = {},
) {
  const step = await press(person, page, action, extra);
  if (step.status !== 200) return { step, result: step };
  const result = await person.agent
    .post(action)
    .type('form')
    .send({ ...hiddenFields(step.text, action), _csrf: csrfFrom(step.text) })
    .redirects(0);
  return { step, result };
}

/** Every link target of a page, as a browser reads it (entities decoded). */
export function hrefsIn(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((match) => decode(match[1]));
}

function formHtml(html: string, action: string): string {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`No form posting to ${action} in page:\n${html.slice(0, 3000)}`);
  const end = html.indexOf('</form>', start);
  return html.slice(start, end);
}

function decode(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x3D;/g, '=');
}
