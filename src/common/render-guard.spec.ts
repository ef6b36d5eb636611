import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { renderGuard } from './render-guard';

const OPTION_NAMES = ['layout', 'settings', 'cache', 'partials', 'helpers', '_locals'];

describe('renderGuard', () => {
  function guardedResponse() {
    const render = jest.fn();
    const res = { render } as unknown as Response;
    renderGuard({ apply: async () => undefined })({} as Request, res, () => undefined);
    return { res, render };
  }

  /** The render runs once the layout's locals are set (a promise): let it. */
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it('never hands Express or hbs an option from a model, and keeps the rest of it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { res, render } = guardedResponse();
    const model = Object.fromEntries([
      ...OPTION_NAMES.map((name) => [name, '../package.json']),
      ['title', 'Sample'],
      ['email', 'kept@example.com'],
    ]);
    res.render('sample/form', model);
    await settled();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('layout, settings, cache, partials, helpers, _locals'));
    warn.mockRestore();
    expect(render).toHaveBeenCalledWith('sample/form', { title: 'Sample', email: 'kept@example.com' }, undefined);
  });

  it('passes a model without such names, and a callback, unchanged', async () => {
    const { res, render } = guardedResponse();
    const model = { title: 'Sample' };
    const callback = () => undefined;
    res.render('a', model, callback);
    res.render('b', callback);
    await settled();
    expect(render.mock.calls[0]).toEqual(['a', model, callback]);
    expect(render.mock.calls[1]).toEqual(['b', undefined, callback]);
  });
});
