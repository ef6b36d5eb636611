import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { FORM_VIEW_KEY, type FormViewMetadata } from './decorators';

/**
 * Tells the exception filter which form a handler shows (its view and DTO), for when the
 * DTO fails validation (pipes run after interceptors start). The layout's locals are set
 * at render time (LayoutLocals).
 */
@Injectable()
export class FormViewInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const res = context.switchToHttp().getResponse<Response>();
      res.locals.formView = this.reflector.get<FormViewMetadata | undefined>(FORM_VIEW_KEY, context.getHandler());
    }
    return next.handle();
  }
}
