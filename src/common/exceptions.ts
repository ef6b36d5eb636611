import { HttpException, HttpStatus } from '@nestjs/common';
import type { Flash } from './flash';

/** Ends the request with a redirect (used by guards, which cannot return one). */
export class RedirectException extends HttpException {
  constructor(
    readonly location: string,
    readonly flash?: Flash,
  ) {
    super('Redirect', HttpStatus.SEE_OTHER);
  }
}

/**
 * A user-caused error on a form: the filter renders `view` again with the message,
 * the field errors and the user's other input kept.
 */
export class FormException extends HttpException {
  constructor(
    readonly view: string,
    readonly model: Record<string, unknown>,
    readonly errors: Record<string, string>,
    status: number = HttpStatus.BAD_REQUEST,
  ) {
    super(Object.values(errors)[0] ?? 'Please check the form.', status);
  }
}

/** A DTO failed validation (from the global ValidationPipe): messages by field. */
export class FieldErrorsException extends HttpException {
  constructor(readonly errors: Record<string, string>) {
    super(Object.values(errors)[0] ?? 'Please check the form.', HttpStatus.BAD_REQUEST);
  }
}
