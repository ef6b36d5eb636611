import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { AppLogger, labelRoute, routeOf, UNMATCHED_ROUTE } from './logging';
import { tokenMatches } from './metrics-endpoint';

function loggerWith(env: Record<string, string> = {}) {
  const written: string[] = [];
  const config = AppConfig.fromEnv({ DATA_DIR: '/tmp', APP_SECRET: 'x'.repeat(32), LOG_LEVEL: 'trace', ...env });
  const logger = new AppLogger(config, { write: (line: string) => void written.push(line) });
  const lines = () => written.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

describe('AppLogger', () => {
  it('writes Nest’s calls as pino lines: the last string is the context, a stack before it is the stack', () => {
    const { logger, lines } = loggerWith();
    logger.log('hello', 'Greeter');
    logger.error('it broke', 'Error: it broke\n    at somewhere (file.ts:1:1)', 'Worker');
    logger.warn({ count: 3 }, 'Counter');
    logger.verbose('fine detail', 'Deep');
    logger.error(new Error('thrown'), 'Thrower');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'info', context: 'Greeter', msg: 'hello' }),
      expect.objectContaining({
        level: 'error',
        context: 'Worker',
        msg: 'it broke',
        stack: expect.stringContaining('at somewhere'),
      }),
      expect.objectContaining({ level: 'warn', context: 'Counter', detail: { count: 3 } }),
      expect.objectContaining({ level: 'trace', context: 'Deep', msg: 'fine detail' }),
      expect.objectContaining({
        level: 'error',
        context: 'Thrower',
        msg: 'thrown',
        err: expect.objectContaining({ message: 'thrown' }),
      }),
    ]);
  });

  it('keeps the route map out unless LOG_ROUTES=true, and the module loader at debug', () => {
    const quiet = loggerWith({ LOG_LEVEL: 'info' });
    quiet.logger.log('Mapped {/login, GET} route', 'RouterExplorer');
    quiet.logger.log('AuthController {/}:', 'RoutesResolver');
    quiet.logger.log('AuthModule dependencies initialized', 'InstanceLoader');
    expect(quiet.lines()).toEqual([]);

    const loud = loggerWith({ LOG_LEVEL: 'debug', LOG_ROUTES: 'true' });
    loud.logger.log('Mapped {/login, GET} route', 'RouterExplorer');
    loud.logger.log('AuthModule dependencies initialized', 'InstanceLoader');
    expect(loud.lines().map((line) => [line.level, line.context])).toEqual([
      ['info', 'RouterExplorer'],
      ['debug', 'InstanceLoader'],
    ]);
  });

  it('writes nothing below LOG_LEVEL', () => {
    const { logger, lines } = loggerWith({ LOG_LEVEL: 'warn' });
    logger.log('info line', 'X');
    logger.debug('debug line', 'X');
    logger.warn('warn line', 'X');
    expect(lines().map((line) => line.msg)).toEqual(['warn line']);
  });
});

describe('routeOf', () => {
  const req = (fields: Partial<Request>) => fields as Request;

  it('is the matched route pattern, never the address', () => {
    expect(routeOf(req({ route: { path: '/password/reset/:token' }, baseUrl: '' }))).toBe('/password/reset/:token');
  });

  it('is one fixed label for the catch-all 404 route and for requests that reached no route', () => {
    expect(routeOf(req({ route: { path: '/*path' }, baseUrl: '' }))).toBe(UNMATCHED_ROUTE);
    expect(routeOf(req({}))).toBe(UNMATCHED_ROUTE);
  });

  it('is the label a middleware gave (static assets, /metrics)', () => {
    const asset = req({});
    labelRoute(asset, '/assets/*');
    expect(routeOf(asset)).toBe('/assets/*');
  });
});

describe('tokenMatches', () => {
  const token = 'metrics-token-0123456789abcdef0123456789';
  it('accepts the configured token only', () => {
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(`${token}x`, token)).toBe(false);
    expect(tokenMatches(token.slice(0, -1), token)).toBe(false);
    expect(tokenMatches('', token)).toBe(false);
    expect(tokenMatches(undefined, token)).toBe(false);
  });
});
