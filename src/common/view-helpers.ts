/** Small formatting helpers for templates; no logic beyond presentation. */
export function registerViewHelpers(hbs: {
  registerHelper(name: string, fn: (...args: any[]) => unknown): void;
}): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('datetime', (value: unknown) => {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) return '';
    return value.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  });
  hbs.registerHelper('fieldError', (errors: Record<string, string> | undefined, field: string) => errors?.[field]);
}
