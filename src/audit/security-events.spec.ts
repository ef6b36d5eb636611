import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeEvent, SECURITY_EVENTS } from './security-events';

const MAIL_VIEWS = join(__dirname, '..', '..', 'views', 'mail');

describe('SECURITY_EVENTS', () => {
  it('gives every event a label, and every emailed event a subject and both parts of its template', () => {
    for (const [type, event] of Object.entries(SECURITY_EVENTS)) {
      expect({ type, label: event.label.trim().length > 0 }).toEqual({ type, label: true });
      if ('email' in event) {
        expect(event.email.subject.length).toBeGreaterThan(0);
        for (const part of ['html', 'text'])
          expect(existsSync(join(MAIL_VIEWS, `${event.email.template}.${part}.hbs`))).toBe(true);
      }
    }
  });
});

describe('describeEvent', () => {
  const at = new Date(Date.UTC(2026, 0, 1));
  const row = (type: string, detail: object | null, actorId: string | null = null) => ({
    type,
    detail: detail && JSON.stringify(detail),
    actorId,
    createdAt: at,
    ip: '203.0.113.1',
  });

  it('writes the label and the note of each event from its detail', () => {
    expect(describeEvent(row('login.succeeded', { method: 'totp' }))).toEqual({
      at,
      label: 'Signed in',
      note: 'With password and code',
      by: undefined,
      ip: '203.0.113.1',
    });
    expect(describeEvent(row('recovery_code.used', { remaining: 7 })).note).toBe('7 left');
    expect(describeEvent(row('mail.failed', { template: 'totp-reset' })).note).toBe('Email: Resend QR link');
    expect(describeEvent(row('session.logout', null))).toMatchObject({ label: 'Logged out', note: undefined });
  });

  it('names the admin who acted only when the caller knows them, and the command line', () => {
    expect(
      describeEvent(row('two_factor.reset', {}, 'admin-1'), (id) => (id === 'admin-1' ? 'Ada Admin' : undefined)).by,
    ).toBe('Ada Admin');
    expect(describeEvent(row('two_factor.reset', {}, 'admin-2')).by).toBe('An admin');
    expect(describeEvent(row('two_factor.reset', { via: 'command line' })).by).toBe('The command line');
  });

  it('shows a row of an unknown type or with an unreadable detail without failing', () => {
    expect(describeEvent({ ...row('future.event', null), detail: '{not json' })).toMatchObject({
      label: 'future.event',
      note: undefined,
    });
  });
});
