import { AttemptCounter } from './attempts/attempt-counter.entity';
import { AuditDayCount } from './audit/audit-day-count.entity';
import { AuditEvent } from './audit/audit-event.entity';
import { SessionRecord } from './auth/session.entity';
import { OutboxMessage } from './mail/outbox-message.entity';
import { Organizer } from './organizers/organizer.entity';
import { OrganizerUserCounts } from './two-factor/factors/organizer-user-counts.entity';
import { RecoveryCode } from './two-factor/recovery-code.entity';
import { Passkey } from './two-factor/passkeys/passkey.entity';
import { TotpDevice } from './two-factor/totp-device.entity';
import { OneTimeToken } from './users/one-time-token.entity';
import { User } from './users/user.entity';

/**
 * Every entity of the app, in one list, beside app.module.ts (which, like this file, may know
 * every feature): the app, the CLI and ormconfig.ts (migration:generate) read the same one.
 */
export const ENTITIES = [
  Organizer,
  OrganizerUserCounts,
  User,
  OneTimeToken,
  RecoveryCode,
  TotpDevice,
  Passkey,
  AuditEvent,
  AuditDayCount,
  SessionRecord,
  AttemptCounter,
  OutboxMessage,
];
