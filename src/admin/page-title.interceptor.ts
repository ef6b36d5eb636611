import { CallHandler, ExecutionContext, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';

/**
 * The page title (a message key) for a form that the exception filter shows again after a
 * failed DTO (the filter only has the kept input); a rendered model's own title wins.
 */
class PageTitleInterceptor implements NestInterceptor {
  /** `title`: a message key (the layout writes it in the page's language). */
  constructor(private readonly title: string) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    context.switchToHttp().getResponse<Response>().locals.title ??= this.title;
    return next.handle();
  }
}

export const PageTitle = (title: string) => UseInterceptors(new PageTitleInterceptor(title));
