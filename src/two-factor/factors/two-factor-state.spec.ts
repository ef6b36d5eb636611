import { Catalogue } from '../../i18n/catalogue';
import { TWO_FACTOR_STATE_WORDS, TWO_FACTOR_STATES, twoFactorState } from './two-factor-state';

describe('twoFactorState', () => {
  const facts = (over: Partial<Parameters<typeof twoFactorState>[0]>) => ({
    required: false,
    hasDeadline: false,
    confirmed: false,
    locked: false,
    ...over,
  });

  it('is off only when nothing requires 2FA and nothing is set up', () => {
    expect(twoFactorState(facts({}))).toBe('off');
    expect(twoFactorState(facts({ required: true }))).toBe('pending');
  });

  it('is pending for a user whom only the organizer policy requires to set it up (one rule for every page)', () => {
    expect(twoFactorState(facts({ hasDeadline: true }))).toBe('pending');
  });

  it('is active with a confirmed factor, whatever required it', () => {
    expect(twoFactorState(facts({ confirmed: true }))).toBe('active');
    expect(twoFactorState(facts({ confirmed: true, required: true, hasDeadline: true }))).toBe('active');
  });

  it('is locked while wrong codes lock the second factor', () => {
    expect(twoFactorState(facts({ confirmed: true, locked: true }))).toBe('locked');
    expect(twoFactorState(facts({ required: true, locked: true }))).toBe('locked');
    // Nothing required and nothing set up: there is no code to lock.
    expect(twoFactorState(facts({ locked: true }))).toBe('off');
  });

  it('has PRODUCT.md’s word for every state, in English', () => {
    const catalogue = Catalogue.load();
    expect(TWO_FACTOR_STATES.map((state) => catalogue.format('en', TWO_FACTOR_STATE_WORDS[state]))).toEqual([
      'Off',
      'Pending setup',
      'Active',
      'Locked',
    ]);
  });
});
