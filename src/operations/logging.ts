import { Inject, Injectable, LoggerService, Optional } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { AppConfig } from '../config/app-config';
import { currentRequestContext, runInRequestContext } from '../common/request-context';

/** Where log lines go instead of stdout (the tests read them): anything with `write(line)`. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
export type LogDestination = pino.DestinationStream;

/** Nest's start-up route map: written only with LOG_ROUTES=true. */
const ROUTE_MAP_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer']);
/** Start-up chatter of Nest's module loader: debug, not info. */
const CHATTY_CONTEXTS = new Set(['InstanceLoader']);

/** A request id a client or proxy may choose: short, and nothing that could carry markup or a line break. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * The one logger (issue 15): pino, JSON lines in production and readable lines in development
 * (LOG_FORMAT), at LOG_LEVEL. It is also Nest's logger (`app.useLogger`), so every `new
 * Logger(context)` in the app writes through it, with the id of the request it runs in.
 * Nothing here logs a header, a cookie, a body, a query string or a raw URL: request lines
 * carry the route pattern only (SECURITY.md 28).
 */
@Injectable()
export class AppLogger implements LoggerService {
  readonly pino: pino.Logger;
  private readonly logRoutes: boolean;

  constructor(config: AppConfig, @Optional() @Inject(LOG_DESTINATION) destination?: LogDestination) {
    const { logLevel, logFormat, logRoutes } = config.operations;
    this.logRoutes = logRoutes;
    const stream =
      destination ??
      (logFormat === 'pretty'
        ? pinoPretty({
            colorize: Boolean(process.stdout.isTTY),
            sync: true,
            translateTime: 'SYS:HH:MM:ss.l',
            // A request is one readable line: its message already says method, route and status.
            ignore: 'pid,hostname,context,reqId,method,route,status,responseTimeMs,userId',
            messageFormat:
              '{if context}[{context}] {end}{msg}{if responseTimeMs} {responseTimeMs} ms{end}{if userId} (user {userId}){end}',
          })
        : // Asynchronous: a line is handed to the file system without waiting, and the lines of a busy
          // moment go out together (a synchronous write per request was about 20 µs of each GET
          // /login, bench profile). pino flushes them synchronously at exit (also after an uncaught
          // exception); only a process killed outright (SIGKILL, out of memory) loses the last few.
          pino.destination({ dest: 1, sync: false }));
    this.pino = pino(
      {
        level: logLevel,
        timestamp: pino.stdTimeFunctions.isoTime,
        base: { pid: process.pid },
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => {
          const context = currentRequestContext();
          return context ? { reqId: context.reqId } : {};
        },
      },
      stream,
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Flushes what is buffered (at shutdown; pino also flushes at exit). */
  flush(): void {
    this.pino.flush();
  }

  /**
   * Nest calls `log(message, context)` and `error(message, stack?, context)`: the last string
   * is the context; for errors, a string before it that looks like a stack is the stack.
   */
  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context = rest.length && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (context && ROUTE_MAP_CONTEXTS.has(context) && !this.logRoutes) return;
    if (context && CHATTY_CONTEXTS.has(context) && level === 'info') level = 'debug';
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = context ? { context } : {};
    const stack = rest.find((param): param is string => typeof param === 'string' && /\n\s+at /.test(param));
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      fields.err = { type: message.name, message: message.message, stack: message.stack };
      this.pino[level](fields, message.message);
      return;
    }
    if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, detail: message }, context ?? 'log');
      return;
    }
    this.pino[level](fields, String(message));
  }
}

/** The route pattern of a request for logs and metrics: never its raw URL (emailed links hold tokens). */
export const UNMATCHED_ROUTE = '(unmatched)';
const ROUTE_LABEL = Symbol('routeLabel');

/** Names the route of a request answered outside Nest's router (static assets, /metrics). */
export function labelRoute(req: Request, label: string): void {
  (req as unknown as Record<symbol, string>)[ROUTE_LABEL] = label;
}

/**
 * The route pattern Express matched (`/password/reset/:token`), or the label set by
 * `labelRoute`; Nest's catch-all 404 route and anything that never reached a route (a
 * body refused before routing) are one fixed label, so metric labels stay bounded.
 */
export function routeOf(req: Request): string {
  const labelled = (req as unknown as Record<symbol, string | undefined>)[ROUTE_LABEL];
  if (labelled) return labelled;
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string' || path.includes('*')) return UNMATCHED_ROUTE;
  return (req.baseUrl ?? '') + path;
}

/** What the request log and the request-time histogram are told about one finished request. */
export interface FinishedRequest {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

/**
 * One line per request, written when the response has been sent (or the client went away):
 * the request id (kept from a safe `X-Request-Id`, else a new one, and sent back in the
 * response), method, route pattern, status, time and the signed-in user's id. Also runs the
 * rest of the request inside the id's context, so the app's own log lines carry it.
 */
export function requestLogging(logger: AppLogger, onFinished?: (request: FinishedRequest) => void) {
  const log = logger.pino;
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, reqId);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      const status = res.headersSent ? res.statusCode : 0;
      onFinished?.({ method: req.method, route, status, seconds });
      const userId = req.session?.auth?.userId;
      const line = {
        reqId,
        method: req.method,
        route,
        status,
        responseTimeMs: Math.round(seconds * 10_000) / 10,
        ...(userId ? { userId } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const message = `${req.method} ${route} ${status}`;
      if (status >= 500) log.error(line, message);
      else log.info(line, message);
    };
    res.once('finish', finish);
    res.once('close', finish);
    runInRequestContext({ reqId, req }, next);
  };
}
