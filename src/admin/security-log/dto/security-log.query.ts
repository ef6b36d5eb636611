import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** A query value as text: one value (a repeated parameter takes the first), trimmed, cut to `max`. */
const text = (max: number) =>
  Transform(({ value }) => {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first.trim().slice(0, max) : undefined;
  });

/**
 * `/admin/security-log?person=…&kind=…&from=…&to=…&before=…` (or `user=<id>` for the person) (and its CSV export). Only
 * their shape is checked here; what they mean (a real date, from ≤ to, a person of the
 * admin's organizer, a known kind, a cursor this app wrote) is the service's, which shows
 * a message on the page with the input kept.
 */
export class SecurityLogQuery {
  /** The exact email of the person the events are about. */
  @IsOptional()
  @text(254)
  @IsString()
  @MaxLength(254)
  person?: string;

  /**
   * A person by id: what links into the log carry (a user's page); the page shows their email
   * in the person field, and its own links carry that.
   */
  @IsOptional()
  @text(36)
  @IsString()
  @MaxLength(36)
  user?: string;

  /** A group of events (`failed-sign-ins`) or one event type (`password.changed`). */
  @IsOptional()
  @text(64)
  @IsString()
  @MaxLength(64)
  kind?: string;

  /** First day, YYYY-MM-DD (UTC), included. */
  @IsOptional()
  @text(40)
  @IsString()
  @MaxLength(40)
  from?: string;

  /** Last day, YYYY-MM-DD (UTC), included. */
  @IsOptional()
  @text(40)
  @IsString()
  @MaxLength(40)
  to?: string;

  /** The keyset cursor of the "Older" link. */
  @IsOptional()
  @text(80)
  @IsString()
  @MaxLength(80)
  before?: string;
}
