import { isEmail, registerDecorator, ValidationOptions } from 'class-validator';
import { domainToASCII } from 'node:url';

/**
 * What an email address is, for the whole app (SECURITY.md 27): the one normal form that is
 * stored, looked up and compared, and the one rule that says which addresses may be stored.
 */

/** The messages for the person typing the address (forms, the command line): keys of locales/*.json. */
export const EMAIL_MESSAGES = {
  missing: 'email.missing',
  invalid: 'email.invalid',
  localPart: 'email.localPart',
  tooLong: 'email.tooLong',
} as const;

/** The largest address stored (RFC 5321 4.5.3.1.3 path limit, less the brackets; the column's length). */
export const EMAIL_MAX_LENGTH = 254;

/** Before the @: what every mail server reads the same way, and what a person can tell apart on a screen. */
const PLAIN_LOCAL_PART = /^[a-z0-9._%+-]+$/;

/**
 * The normal form of an address, for storing and for lookups: NFKC (a full-width `ｄ` or `＠` is
 * the plain one), trimmed, lower-cased, the domain in its ASCII (IDNA) form. Never throws, so
 * an unknown or odd email at sign-in takes the same path as any other; it does not say whether
 * the address is acceptable (that is emailAddressProblem).
 */
export function normaliseEmail(input: string): string {
  const text = String(input).normalize('NFKC').trim().toLowerCase();
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const domain = text.slice(at + 1);
  // domainToASCII answers '' for what is not a domain name: keep the text, it matches no account.
  return text.slice(0, at + 1) + (domainToASCII(domain) || domain);
}

/**
 * Why an address cannot be stored, a message key for the person who typed it, or undefined when it
 * can. Checked on the normal form, the one stored: one @; a local part of plain printable ASCII
 * only (a Cyrillic `а` would make a second account that looks identical, a quoted local part is
 * delivered elsewhere than it reads); a domain name; at most 254 characters.
 */
export function emailAddressProblem(input: unknown): string | undefined {
  if (typeof input !== 'string' || !input.trim()) return EMAIL_MESSAGES.missing;
  // NFKC can lengthen a string (up to 18 times): refuse an absurd input before normalising it.
  if (input.length > 4 * EMAIL_MAX_LENGTH) return EMAIL_MESSAGES.tooLong;
  const email = normaliseEmail(input);
  if (email.length > EMAIL_MAX_LENGTH) return EMAIL_MESSAGES.tooLong;
  const parts = email.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return EMAIL_MESSAGES.invalid;
  if (!PLAIN_LOCAL_PART.test(parts[0])) return EMAIL_MESSAGES.localPart;
  // The rest of the syntax (dots, a local part of at most 64, domain labels and a TLD) as class-validator's IsEmail had it.
  if (
    !isEmail(email, {
      allow_utf8_local_part: false,
      require_tld: true,
      allow_ip_domain: false,
      allow_display_name: false,
    })
  ) {
    return EMAIL_MESSAGES.invalid;
  }
  return undefined;
}

/** A DTO field that must be an email address the app can store; the message is emailAddressProblem's. */
export function IsEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isEmailAddress',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => emailAddressProblem(value) === undefined,
        defaultMessage: (args) => emailAddressProblem(args?.value) ?? EMAIL_MESSAGES.invalid,
      },
    });
}
