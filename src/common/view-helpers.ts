/** Small formatting helpers for templates; no logic beyond presentation. */
export function registerViewHelpers(hbs: {
  registerHelper(name: string, fn: (...args: any[]) => unknown): void;
}): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('fieldError', (errors: Record<string, string> | undefined, field: string) => errors?.[field]);
}
