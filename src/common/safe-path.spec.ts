import { safeReturnPath } from './safe-path';

describe('safeReturnPath', () => {
  it('keeps same-site paths with their query', () => {
    expect(safeReturnPath('/admin/users?q=ann')).toBe('/admin/users?q=ann');
    expect(safeReturnPath('/')).toBe('/');
  });

  it('refuses anything that could leave the site', () => {
    for (const value of ['https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x', 'evil', '', '/\tevil']) {
      const result = safeReturnPath(value);
      if (result !== undefined) expect(result.startsWith('/') && !result.startsWith('//')).toBe(true);
    }
    expect(safeReturnPath('https://evil.example')).toBeUndefined();
    expect(safeReturnPath('//evil.example')).toBeUndefined();
    expect(safeReturnPath('/\\evil.example')).toBeUndefined();
    expect(safeReturnPath(['/a'])).toBeUndefined();
  });

  it('does not return to the sign-in pages', () => {
    expect(safeReturnPath('/login')).toBeUndefined();
    expect(safeReturnPath('/2fa/verify')).toBeUndefined();
  });
});
