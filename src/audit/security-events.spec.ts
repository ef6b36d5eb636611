import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Catalogue } from '../i18n/catalogue';
import { LANGUAGES } from '../i18n/languages';
import { describeEvent, SECURITY_EVENTS } from './security-events';

const MAIL_VIEWS = join(__dirname, '..', '..', 'views', 'mail');

describe('SECURITY_EVENTS', () => {
  const catalogue = Catalogue.load();

  it('gives every event a label that is a message in every language, and every emailed event a subject and both parts of its template', () => {
    for (const [type, event] of Object.entries(SECURITY_EVENTS)) {
      for (const language of LANGUAGES)
        expect({ type, language, label: catalogue.has(event.label, language) }).toEqual({
          type,
          language,
          label: true,
        });
      if ('email' in event) {
        expect(catalogue.has(event.email.subject)).toBe(true);
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

  it('gives the label and the note of each event as messages, from its detail', () => {
    expect(describeEvent(row('login.succeeded', { method: 'totp' }))).toEqual({
      at,
      label: { key: 'audit.event.loginSucceeded' },
      note: { key: 'audit.note.method.totp' },
      by: undefined,
      byKey: undefined,
      ip: '203.0.113.1',
    });
    expect(describeEvent(row('login.succeeded', { method: 'carrier-pigeon' })).note).toEqual({
      key: 'audit.note.method.other',
      values: { method: 'carrier-pigeon' },
    });
    expect(describeEvent(row('recovery_code.used', { remaining: 7 })).note).toEqual({
      key: 'audit.note.codesLeft',
      values: { remaining: 7 },
    });
    expect(describeEvent(row('session.ended_all', { count: 2 })).note).toEqual({
      key: 'audit.note.sessionsEnded',
      values: { count: 2 },
    });
    expect(describeEvent(row('session.ended', { device: 'Firefox on Linux' })).note).toEqual({
      key: 'audit.note.data',
      values: { text: 'Firefox on Linux' },
    });
    expect(describeEvent(row('mail.failed', { template: 'totp-reset' })).note).toEqual({
      key: 'audit.note.mail.totpReset',
    });
    expect(describeEvent(row('mail.failed', { template: 'constructor' })).note).toEqual({
      key: 'audit.note.mailOther',
      values: { email: 'constructor' },
    });
    expect(describeEvent(row('session.logout', null))).toMatchObject({
      label: { key: 'audit.event.sessionLogout' },
      note: undefined,
    });
  });

  it('writes every note in every language', () => {
    const catalogue = Catalogue.load();
    const notes = [
      row('login.succeeded', { method: 'passkey-only' }),
      row('login.passkey_failed', { reason: 'not-allowed' }),
      row('code.failed', { during: 'setup' }),
      row('code.failed', { recoveryCode: true }),
      row('two_factor.setup', { viaResetLink: true }),
      row('session.ended_others', { count: 1 }),
      row('organizer.time_zone_changed', { timeZone: 'Europe/Paris', previous: 'UTC' }),
    ].map((event) => describeEvent(event).note!);
    for (const { key, values } of notes)
      for (const language of LANGUAGES) expect(() => catalogue.format(language, key, values)).not.toThrow();
  });

  it('names the admin who acted only when the caller knows them, else gives the key of who acted', () => {
    expect(
      describeEvent(row('two_factor.reset', {}, 'admin-1'), (id) => (id === 'admin-1' ? 'Ada Admin' : undefined)),
    ).toMatchObject({ by: 'Ada Admin', byKey: undefined });
    expect(describeEvent(row('two_factor.reset', {}, 'admin-2'))).toMatchObject({
      by: undefined,
      byKey: 'audit.by.admin',
    });
    expect(describeEvent(row('two_factor.reset', { via: 'command line' }))).toMatchObject({
      by: undefined,
      byKey: 'audit.by.commandLine',
    });
  });

  it('shows a row of an unknown type or with an unreadable detail without failing', () => {
    expect(describeEvent({ ...row('future.event', null), detail: '{not json' })).toMatchObject({
      label: { key: 'audit.note.data', values: { text: 'future.event' } },
      note: undefined,
    });
    expect(describeEvent(row('toString', null)).label).toEqual({
      key: 'audit.note.data',
      values: { text: 'toString' },
    });
  });
});
