import { AsyncLocalStorage } from 'node:async_hooks';
import type { Request } from 'express';

/** What code far from the request may ask of the request being answered. */
export interface RequestContext {
  /** Its id in the logs (operations/logging.ts). */
  reqId: string;
  /** The request itself: an email queued by a service speaks the language of who caused it (i18n/request-locale.ts). */
  req: Request;
}

/** One store for every request (promise hooks cost per store): set once, first thing, by the request log middleware. */
const context = new AsyncLocalStorage<RequestContext>();

/** Runs the rest of the request (`next`) where currentRequestContext() finds it. */
export function runInRequestContext(value: RequestContext, next: () => void): void {
  context.run(value, next);
}

/** The request being answered, or undefined outside one (the CLI, the outbox worker, start-up). */
export function currentRequestContext(): RequestContext | undefined {
  return context.getStore();
}
