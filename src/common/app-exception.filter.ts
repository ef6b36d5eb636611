import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';
import { isDatabaseUnavailable } from '../database/database-errors';
import { CsrfService } from './csrf';
import { FieldErrorsException, FormException, RedirectException } from './exceptions';
import { setViewLocals } from './view-locals.interceptor';

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

  constructor(
    private readonly csrf: CsrfService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;

    if (exception instanceof RedirectException) {
      if (exception.flash && req.session) (req.session.flash ??= []).push(exception.flash);
      res.redirect(HttpStatus.SEE_OTHER, exception.location);
      return;
    }

    setViewLocals(req, res, this.csrf, this.config, this.clock);
    if (exception instanceof FieldErrorsException && res.locals.formView) {
      const form = new FormException(res.locals.formView, { ...keptInput(req.body), ...req.params }, exception.errors);
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
    if (status >= 500) this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
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
      signedOut: !res.locals.currentUser,
    });
  }
}

/** The message of a 4xx written for people; Nest's generic texts are replaced by ours. */
function userMessage(exception: HttpException): string | undefined {
  const response = exception.getResponse();
  const text = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  if (typeof text !== 'string' || /^(Not Found|Forbidden|Bad Request|Cannot (GET|POST) .*)$/i.test(text)) return undefined;
  return text;
}

/** The user's input to show again: strings only, never a password or the CSRF token. */
function keptInput(body: unknown): Record<string, string> {
  const kept: Record<string, string> = {};
  if (!body || typeof body !== 'object') return kept;
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string' && !/password|_csrf|code/i.test(key)) kept[key] = value;
  }
  return kept;
}
