import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppConfig } from '../config/app-config';
import { labelRoute } from './logging';
import { MetricsService } from './metrics.service';

export const METRICS_PATH = '/metrics';

/** Constant-time comparison of a presented bearer token with the configured one (SECURITY.md 10). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer ([\x21-\x7e]+)$/);
  return match?.[1];
}

/**
 * /metrics on the main port: only for `Authorization: Bearer <METRICS_TOKEN>`. Without a
 * token configured, or without the right one, the request goes on to the app's ordinary
 * 404 page, as for any unknown address. Mounted before cookies and sessions are read, so a
 * scrape never makes a session or a CSRF cookie and never meets the sign-in guard.
 */
export function metricsOnMainPort(config: AppConfig, metrics: MetricsService) {
  const token = config.operations.metricsToken;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    if (!token || !tokenMatches(bearerToken(req.headers.authorization), token)) return next();
    labelRoute(req, METRICS_PATH);
    metrics.scrape().then(
      ({ contentType, body }) => void res.status(200).type(contentType).send(body),
      (error: unknown) => next(error),
    );
  };
}

/**
 * METRICS_PORT: a second listener that serves only GET /metrics, without a token (keep the
 * port off the public network). Started by main.ts after the app listens, closed at shutdown.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** Listens on METRICS_PORT when it is set; returns the port (0 picks a free one), or null. */
  async start(): Promise<number | null> {
    const port = this.config.operations.metricsPort;
    if (port === undefined || this.server) return null;
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => resolve());
    });
    this.server = server;
    const actual = (server.address() as AddressInfo).port;
    this.logger.log(`Metrics on port ${actual} at ${METRICS_PATH}`);
    return actual;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    try {
      const { contentType, body } = await this.metrics.scrape();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body);
    } catch (error) {
      this.logger.error(`Metrics scrape failed: ${error}`);
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Metrics unavailable\n');
    }
  }
}
