import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { AppLogger } from './logging';

/**
 * Graceful shutdown on SIGTERM (and SIGINT), issue 15. Nest's own signal handling would
 * close the HTTP server only after the modules' destroy hooks, still accepting connections
 * meanwhile, and end the process by re-raising the signal; so, in this order:
 *  1. stop accepting connections and close the idle keep-alive ones;
 *  2. let the requests in flight finish (each answered with `Connection: close`), for at
 *     most SHUTDOWN_GRACE_MS, after which the connections left are closed;
 *  3. `app.close()`: Nest's hooks run (the pruner stops, the password-reset and outbox
 *     work finishes in `beforeApplicationShutdown`, TypeORM closes the database last);
 *  4. exit 0 (1 if a hook failed).
 */
export class GracefulShutdown {
  private draining = false;
  private started?: Promise<void>;

  constructor(
    private readonly app: INestApplication,
    private readonly server: Server,
    private readonly logger: AppLogger,
    private readonly graceMs: number,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** The answers not yet sent: told to close their connection when draining starts. */
  private readonly inFlight = new Set<Response>();

  /**
   * Express middleware: an answer during draining, or one in flight when it started, closes
   * its connection (`Connection: close`), and a keep-alive connection whose request finished
   * is closed once idle.
   */
  middleware() {
    return (_req: Request, res: Response, next: NextFunction): void => {
      if (this.draining) res.setHeader('Connection', 'close');
      else this.inFlight.add(res);
      res.once('close', () => {
        this.inFlight.delete(res);
        if (this.draining) setImmediate(() => this.server.closeIdleConnections());
      });
      next();
    };
  }

  listen(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const signal of signals) process.on(signal, () => void this.shutdown(signal));
  }

  /** Runs the sequence once; a second signal while it runs changes nothing. */
  shutdown(signal: string): Promise<void> {
    this.started ??= this.run(signal);
    return this.started;
  }

  private async run(signal: string): Promise<void> {
    const log = this.logger.pino.child({ context: 'Shutdown' });
    const started = Date.now();
    this.draining = true;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Written once the listener is closed: whoever reads it knows new connections are refused.
    log.info({ signal, graceMs: this.graceMs }, `${signal} received: no new connections, finishing requests in flight`);
    const grace = setTimeout(() => {
      log.warn(`Requests still running after ${this.graceMs} ms: closing their connections`);
      this.server.closeAllConnections();
    }, this.graceMs);
    grace.unref();
    await closed;
    clearTimeout(grace);
    log.info({ ms: Date.now() - started }, 'No requests left: closing the app');
    let code = 0;
    try {
      await this.app.close();
    } catch (error) {
      code = 1;
      log.error(
        { err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) },
        'Shutdown failed',
      );
    }
    log.info({ ms: Date.now() - started, code }, 'Stopped');
    this.logger.flush();
    this.exit(code);
  }
}
