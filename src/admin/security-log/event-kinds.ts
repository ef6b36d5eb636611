import { AuditType, SECURITY_EVENTS } from '../../audit/security-events';

/**
 * The groups of security events that the log's kind filter offers and its chart counts per
 * day: the one definition (a type belongs to one group at most). A replayed code is refused
 * before any secret is checked, so it is not a failed sign-in here.
 */
export const EVENT_GROUPS = {
  'sign-ins': { label: 'securityLog.group.signIns', types: ['login.succeeded'] },
  'failed-sign-ins': {
    label: 'securityLog.group.failedSignIns',
    types: ['login.failed', 'login.passkey_failed', 'code.failed'],
  },
  locks: { label: 'securityLog.group.locks', types: ['login.locked', 'code.locked'] },
} as const satisfies Record<string, { label: string; types: readonly AuditType[] }>;

export type EventGroup = keyof typeof EVENT_GROUPS;
export const EVENT_GROUP_KEYS = Object.keys(EVENT_GROUPS) as EventGroup[];

/** The group of a type, for counting rows the database grouped by type. */
export function groupOf(type: string): EventGroup | undefined {
  return EVENT_GROUP_KEYS.find((group) => (EVENT_GROUPS[group].types as readonly string[]).includes(type));
}

/** Every type the chart counts. */
export const CHARTED_TYPES: AuditType[] = EVENT_GROUP_KEYS.flatMap((group) => [...EVENT_GROUPS[group].types]);

/**
 * What the kind filter's value means: a group's key (`failed-sign-ins`) or one event type
 * (`password.changed`, the types of SECURITY_EVENTS); undefined for anything else.
 */
export function typesOfKind(kind: string): AuditType[] | undefined {
  if (Object.hasOwn(EVENT_GROUPS, kind)) return [...EVENT_GROUPS[kind as EventGroup].types];
  if (Object.hasOwn(SECURITY_EVENTS, kind)) return [kind as AuditType];
  return undefined;
}

/**
 * The kind filter's choices: the groups, then every event, each by its label's message key
 * (the page writes them in its language and sorts the events by that text).
 */
export const KIND_CHOICES = {
  groups: EVENT_GROUP_KEYS.map((group) => ({ value: group, label: EVENT_GROUPS[group].label })),
  events: (Object.keys(SECURITY_EVENTS) as AuditType[]).map((type) => ({
    value: type,
    label: SECURITY_EVENTS[type].label,
  })),
};
