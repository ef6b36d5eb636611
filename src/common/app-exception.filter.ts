import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, Type } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-errors';
import type { FormViewMetadata } from './decorators';
import { FieldErrorsException, FormException, RedirectException } from './exceptions';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Not allowed',
  404: 'Page not found',
  413: 'Too much data',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'Temporarily unavailable',
};

/**
 * The one place that turns exceptions into pages: a redirect, the same form again with
 * its messages and input, or an error page in the layout. Never a stack trace.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Error');

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
      const errors = exception.errors;
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
    const message = status < 500 && exception instanceof HttpException ? userMessage(exception) : undefined;
    if (req.path === '/healthz' || req.accepts(['html', 'json']) === 'json') {
      res.status(status).json({ status: 'error', statusCode: status, message: message ?? TITLES[status] });
      return;
    }
    res.status(status).render('errors/error', {
      title: TITLES[status] ?? 'Error',
      status,
      message,
      retryAfter: res.getHeader('Retry-After'),
    });
  }
}

/** The message of a 4xx written for people; Nest's generic texts are replaced by ours. */
function userMessage(exception: HttpException): string | undefined {
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
