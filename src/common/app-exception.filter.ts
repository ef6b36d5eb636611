import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  Optional,
  Type,
} from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-errors';
import type { FormViewMetadata } from './decorators';
import { Catalogue } from '../i18n/catalogue';
import { currentLanguage } from '../i18n/request-locale';
import { FieldErrorsException, FormException, MessageConflictException, RedirectException } from './exceptions';
import { type Message, messageParts } from './message';

/** The error pages' titles (keys), by status. */
export const ERROR_TITLES: Record<number, string> = {
  400: 'errors.title.badRequest',
  403: 'errors.title.forbidden',
  404: 'errors.title.notFound',
  413: 'errors.title.tooLarge',
  429: 'errors.title.tooMany',
  500: 'errors.title.serverError',
  503: 'errors.title.unavailable',
};
const DEFAULT_TITLE = 'errors.title.default';

/**
 * The one place that turns exceptions into pages: a redirect, the same form again with
 * its messages and input, or an error page in the layout. Never a stack trace.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Error');
  private readonly catalogue: Catalogue;

  constructor(@Optional() catalogue?: Catalogue) {
    this.catalogue = catalogue ?? Catalogue.load();
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;

    if (exception instanceof RedirectException) {
      if (exception.flash && req.session) (req.session.flash ??= []).push(exception.flash);
      res.redirect(HttpStatus.SEE_OTHER, exception.location);
      return;
    }

    const formView = res.locals.formView as FormViewMetadata | undefined;
    if (exception instanceof FieldErrorsException && formView) {
      const form = new FormException(formView.view, { input: keptInput(req.body, formView.form) }, exception.errors);
      return this.catch(form, host);
    }
    if (exception instanceof FormException) {
      // The messages in the page's language: the views show them as they are.
      const errors = Object.fromEntries(
        Object.entries(exception.errors).map(([field, message]) => [field, this.text(message)]),
      );
      res.status(exception.getStatus()).render(exception.view, {
        ...exception.model,
        errors,
        errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      });
      return;
    }

    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : isDatabaseUnavailable(exception)
          ? HttpStatus.SERVICE_UNAVAILABLE
          : HttpStatus.INTERNAL_SERVER_ERROR;
    if (status >= 500)
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    const given = status < 500 && exception instanceof HttpException ? userMessage(exception) : undefined;
    // Only our own messages are shown: a library's default text (English) leaves the page its title.
    const message = given !== undefined && this.catalogue.has(messageParts(given).key) ? given : undefined;
    const title = ERROR_TITLES[status] ?? DEFAULT_TITLE;
    if (req.path === '/healthz' || req.accepts(['html', 'json']) === 'json') {
      res.status(status).json({ status: 'error', statusCode: status, message: this.text(message ?? title) });
      return;
    }
    const parts = message === undefined ? undefined : messageParts(message);
    res.status(status).render('errors/error', {
      title,
      status,
      message: parts?.key,
      messageValues: parts?.values,
      retryAfter: res.getHeader('Retry-After'),
    });
  }

  /** A message in the language of the request being answered. */
  private text(message: Message): string {
    const { key, values } = messageParts(message);
    // A validator's default text (English, not one of ours) is never shown: a plain "not valid" instead.
    if (!this.catalogue.has(key)) return this.catalogue.format(currentLanguage(), 'errors.invalidValue');
    return this.catalogue.format(currentLanguage(), key, values);
  }
}

/** The message of a 4xx written for people (a key); Nest's generic texts are replaced by ours. */
function userMessage(exception: HttpException): Message | undefined {
  if (exception instanceof MessageConflictException) return exception.userMessage;
  const response = exception.getResponse();
  const text = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  if (typeof text !== 'string' || /^(Not Found|Forbidden|Bad Request|Cannot (GET|POST) .*)$/i.test(text))
    return undefined;
  return text;
}

/**
 * What the user typed in the form's own fields (its DTO's), to show again under `input`:
 * strings only, never a password, a code or the CSRF token. Nothing else of the body
 * reaches the view (SECURITY.md 23).
 */
function keptInput(body: unknown, form: Type<object>): Record<string, string> {
  const input: Record<string, string> = {};
  if (!body || typeof body !== 'object') return input;
  for (const field of formFields(form)) {
    const value: unknown = Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
    if (typeof value === 'string' && !/password|_csrf|code/i.test(field)) input[field] = value;
  }
  return input;
}

/** A DTO's fields: its properties with validation rules, the ones the global pipe's whitelist keeps. */
function formFields(form: Type<object>): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(form, '', false, false);
  return [...new Set(rules.map((rule) => rule.propertyName))];
}
