import { ArgumentsHost } from '@nestjs/common';
import { IsOptional, IsString } from 'class-validator';
import { AppExceptionFilter } from './app-exception.filter';
import type { FormViewMetadata } from './decorators';
import { FieldErrorsException } from './exceptions';

class SampleFormDto {
  @IsString()
  email: string;

  @IsOptional()
  @IsString()
  name?: string;

  @IsString()
  password: string;
}

/** The filter on a fake request and response: what it renders, and with which model. */
function run(exception: unknown, request: { body?: unknown; formView?: FormViewMetadata } = {}) {
  const render = jest.fn();
  const res = {
    headersSent: false,
    // The layout's locals are already set, as after the view-locals interceptor.
    locals: { csrfToken: 'token', formView: request.formView },
    status: jest.fn().mockReturnThis(),
    render,
    getHeader: () => undefined,
    redirect: jest.fn(),
  };
  const req = { body: request.body, params: {}, path: '/form', session: {}, accepts: () => 'html' };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ArgumentsHost;
  new AppExceptionFilter().catch(exception, host);
  expect(render).toHaveBeenCalledTimes(1);
  const [view, model] = render.mock.calls[0] as [string, Record<string, unknown>];
  return { view, model, status: res.status.mock.calls[0][0] as number };
}

describe('AppExceptionFilter', () => {
  describe('catch(FieldErrorsException) on a @FormView handler', () => {
    it('shows again only the DTO’s fields, under `input`, never a password or another name of the body', () => {
      const body = Object.assign(Object.create(null), {
        email: 'typed@example.com',
        name: 'Typed Name',
        password: 'secret password',
        _csrf: 'token',
        organizerId: 'another-organizer',
        layout: '../package.json',
        settings: '1',
        cache: '1',
        partials: 'x',
        helpers: 'x',
        _locals: 'x',
      });
      const { view, model, status } = run(new FieldErrorsException({ email: 'Enter a valid email address.' }), {
        body,
        formView: { view: 'sample/form', form: SampleFormDto },
      });
      expect(view).toBe('sample/form');
      expect(status).toBe(400);
      expect(model.input).toEqual({ email: 'typed@example.com', name: 'Typed Name' });
      expect(Object.keys(model).sort()).toEqual(['errorList', 'errors', 'input']);
    });
  });
});
