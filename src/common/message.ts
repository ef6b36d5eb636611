/**
 * What a person is told (issue 17): a message key of locales/*.json, or a key with its
 * placeholders' values. Code holds keys, never sentences; the page that shows a message
 * writes it in its own language (the exception filter for form errors, `{{t}}` elsewhere).
 */
export type Message = string | { key: string; values?: MessageValueMap };

/** Placeholder values: plain strings and numbers (a flash keeps them in the session). */
export type MessageValueMap = Record<string, string | number>;

/** A message as key and values, the shape of a flash's and of the error pages'. */
export function messageParts(message: Message): { key: string; values?: MessageValueMap } {
  return typeof message === 'string' ? { key: message } : message;
}
