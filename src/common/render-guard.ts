import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { LayoutLocals } from './layout-locals';

/**
 * Names that Express and hbs read from a render's options rather than show: `layout` (the
 * file rendered around the page), `settings` and `cache` (Express), `partials`, `helpers`
 * and `_locals`. No view model carries them (SECURITY.md 23).
 */
export const RENDER_OPTION_NAMES: ReadonlySet<string> = new Set([
  'layout',
  'settings',
  'cache',
  'partials',
  'helpers',
  '_locals',
]);

const logger = new Logger('Views');

/**
 * Every `res.render` of the app, whoever calls it: the layout's locals are set first
 * (LayoutLocals), and the model is the page's data, never the render's options. Models are built from declared fields (never by spreading a request);
 * this is the net under that rule: a name Express or hbs would read as an option is
 * dropped, and logged (the key only), since only a bug puts it there.
 */
export function renderGuard(layout: Pick<LayoutLocals, 'apply'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    type Callback = (error: Error, html: string) => void;
    const render = res.render.bind(res) as (view: string, options?: object, callback?: Callback) => void;
    res.render = ((view: string, options?: object | Callback, callback?: Callback) => {
      const model =
        typeof options === 'function'
          ? undefined
          : options && withoutRenderOptions(view, options as Record<string, unknown>);
      const done = typeof options === 'function' ? (options as Callback) : callback;
      // The layout's locals, right before the page renders (LayoutLocals never throws).
      layout
        .apply(req, res)
        .then(() => render(view, model, done))
        .catch((error: unknown) => req.next?.(error));
    }) as Response['render'];
    next();
  };
}

export function withoutRenderOptions(view: string, model: Record<string, unknown>): Record<string, unknown> {
  const found = Object.keys(model).filter((name) => RENDER_OPTION_NAMES.has(name));
  if (!found.length) return model;
  logger.warn(`The model of ${view} carried ${found.join(', ')}: dropped`);
  return Object.fromEntries(Object.entries(model).filter(([name]) => !RENDER_OPTION_NAMES.has(name)));
}
