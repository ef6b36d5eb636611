import { SECURITY_EVENTS } from '../../audit/security-events';
import { CHARTED_TYPES, EVENT_GROUP_KEYS, EVENT_GROUPS, groupOf, KIND_CHOICES, typesOfKind } from './event-kinds';

describe('event kinds of the security log', () => {
  it('puts each charted type in exactly one group, and only types SECURITY_EVENTS defines', () => {
    expect(new Set(CHARTED_TYPES).size).toBe(CHARTED_TYPES.length);
    for (const type of CHARTED_TYPES) expect(Object.keys(SECURITY_EVENTS)).toContain(type);
    for (const group of EVENT_GROUP_KEYS)
      for (const type of EVENT_GROUPS[group].types) expect(groupOf(type)).toBe(group);
    expect(groupOf('password.changed')).toBeUndefined();
  });

  it('offers the groups and every event by its one label (a message key), and understands only those', () => {
    expect(KIND_CHOICES.groups.map((choice) => choice.label)).toEqual([
      'securityLog.group.signIns',
      'securityLog.group.failedSignIns',
      'securityLog.group.locks',
    ]);
    expect(KIND_CHOICES.events).toHaveLength(Object.keys(SECURITY_EVENTS).length);
    expect(KIND_CHOICES.events.find((choice) => choice.value === 'login.failed')?.label).toBe(
      SECURITY_EVENTS['login.failed'].label,
    );
    expect(typesOfKind('failed-sign-ins')).toEqual(['login.failed', 'login.passkey_failed', 'code.failed']);
    expect(typesOfKind('password.changed')).toEqual(['password.changed']);
    for (const kind of ['', 'everything', 'constructor', '__proto__', 'toString'])
      expect(typesOfKind(kind)).toBeUndefined();
  });
});
