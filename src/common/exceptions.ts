import { ConflictException, HttpException, HttpStatus } from '@nestjs/common';
import type { Flash } from './flash';
import { type Message, messageParts } from './message';

/** Ends the request with a redirect (used by guards, which cannot return one). */
export class RedirectException extends HttpException {
  constructor(
    readonly location: string,
    readonly flash?: Flash,
  ) {
    super('Redirect', HttpStatus.SEE_OTHER);
  }
}

/** The key of a form's error when no field names one. */
export const CHECK_THE_FORM = 'form.checkTheForm';

/**
 * A user-caused error on a form: the filter renders `view` again with the messages (keys,
 * written in the page's language by the filter), the field errors and the user's other input kept.
 */
export class FormException extends HttpException {
  constructor(
    readonly view: string,
    readonly model: Record<string, unknown>,
    readonly errors: Record<string, Message>,
    status: number = HttpStatus.BAD_REQUEST,
  ) {
    super(firstKey(errors), status);
  }
}

/** A DTO failed validation (from the global ValidationPipe): message keys by field. */
export class FieldErrorsException extends HttpException {
  constructor(readonly errors: Record<string, Message>) {
    super(firstKey(errors), HttpStatus.BAD_REQUEST);
  }
}

/**
 * A refused action (409) a person reads on the error page or, caught by a feature, in a
 * flash: its message is a key with values (`userMessage`; `message` is the key alone).
 */
export class MessageConflictException extends ConflictException {
  constructor(readonly userMessage: Message) {
    super(messageParts(userMessage).key);
  }
}

function firstKey(errors: Record<string, Message>): string {
  const first = Object.values(errors)[0];
  return first === undefined ? CHECK_THE_FORM : messageParts(first).key;
}
