import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { OrganizersService } from '../organizers/organizers.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { FACTOR_KIND_WORDS, FactorKindName } from '../two-factor/factors/second-factor';
import { TWO_FACTOR_STATE_WORDS } from '../two-factor/factors/two-factor-state';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { ROLE_LABELS, stateView } from './admin-views';
import { csvRow, fileNamePart } from './csv';
import { ListUsersQuery, UserFilter } from './dto/list-users.query';

export const USERS_PER_PAGE = 20;
/**
 * The CSV export reads this many users per query, writing each batch before the next. Measured
 * with bench/users-export.js (300k users): on SQLite, whose queries block the event loop, a
 * sign-in needs a few turns of it and waits a batch at each: GET /login p99 during an export
 * was 108 ms with batches of 1,000, 71 ms with 250, 30 ms with 100 (and the export no slower).
 * On PostgreSQL, for 250 ids or more the planner may hash every active authenticator of the
 * database for each batch (60+ ms a query at 1,000); for 100 it probes the (user_id, slot) index.
 */
export const USERS_CSV_BATCH = 100;

/** Users → the list of the admin's organizer, its search and filter, its adoption counts, and the same as CSV. */
@Injectable()
export class AdminUserListService {
  constructor(
    private readonly users: UsersService,
    private readonly factors: SecondFactors,
    private readonly organizers: OrganizersService,
    private readonly clock: Clock,
  ) {}

  /**
   * The admin's organizer's users, searched by name or email (wildcards typed are literal),
   * optionally only those without a confirmed second factor, a page at a time; with the
   * organizer's 2FA adoption counted over all its users.
   */
  async list(admin: User, query: ListUsersQuery) {
    const search = (query.q ?? '').trim().slice(0, 100);
    const show = query.show;
    const builder = this.usersQuery(admin, search, show);
    const [total, adoption, organizer] = await Promise.all([
      builder.getCount(),
      this.factors.adoption(admin.organizerId),
      this.organizers.getById(admin.organizerId),
    ]);
    const pages = Math.max(1, Math.ceil(total / USERS_PER_PAGE));
    const page = Math.min(Math.max(1, query.page ?? 1), pages);
    const rows = await builder
      .orderBy('LOWER(u.name)', 'ASC')
      .addOrderBy('u.email', 'ASC')
      .offset((page - 1) * USERS_PER_PAGE)
      .limit(USERS_PER_PAGE)
      .getMany();
    const [states, kinds] = await Promise.all([
      this.factors.states(rows),
      this.factors.kindsOf(rows.map((user) => user.id)),
    ]);
    const filters = { ...(search ? { q: search } : {}), ...(show ? { show } : {}) };
    const href = (target: number) => `/admin/users?${new URLSearchParams({ ...filters, page: String(target) })}`;
    const exportQuery = new URLSearchParams(filters).toString();
    return {
      title: 'Users',
      q: search,
      show,
      notSetUp: show === 'not-set-up',
      filtered: !!(search || show),
      total,
      page,
      pages,
      paginated: pages > 1,
      previousHref: page > 1 ? href(page - 1) : undefined,
      nextHref: page < pages ? href(page + 1) : undefined,
      exportHref: `/admin/users/export.csv${exportQuery ? `?${exportQuery}` : ''}`,
      adoption,
      policyOn: organizer.requireTwoFactor,
      users: rows.map((user) => ({
        id: user.id,
        name: user.name,
        email: user.email,
        role: ROLE_LABELS[user.role],
        ...stateView(states.get(user.id)!),
        factors: factorWords(kinds.get(user.id)!),
        accountLocked: !!user.accountLockedAt,
        invited: !user.passwordHash,
        lastLoginAt: user.lastLoginAt,
        isSelf: user.id === admin.id,
      })),
    };
  }

  /**
   * The list as CSV (same search and filter, every page): only the admin's organizer;
   * columns Name, Email, Role, 2FA (PRODUCT.md's words), Last sign-in, Created (ISO 8601) and
   * Factors, in the list's order. Streamed: the rows are read and written a keyset batch at a
   * time (csvLines), so memory stays flat and the event loop turns between batches.
   */
  async exportCsv(admin: User, query: ListUsersQuery): Promise<{ filename: string; lines: AsyncIterable<string> }> {
    const search = (query.q ?? '').trim().slice(0, 100);
    const organizer = await this.organizers.getById(admin.organizerId);
    const filename = `users-${fileNamePart(organizer.name)}-${this.clock.now().toISOString().slice(0, 10)}.csv`;
    return { filename, lines: this.csvLines(admin, search, query.show) };
  }

  /**
   * The CSV's lines, a batch of USERS_CSV_BATCH users at a time in the list's order
   * (LOWER(name), email): email is unique, so the pair is a keyset (people of the same name
   * are ordered by email, none read twice or skipped at a batch boundary), a range on the
   * (organizer_id, LOWER(name), email) index (AddUserListOrderIndex). The sort key of the
   * last row is the database's own LOWER() (SQLite lowers ASCII only, JavaScript does more).
   * The 2FA states and factors are asked per batch (a few queries of at most a batch of ids).
   */
  private async *csvLines(admin: User, search: string, show: UserFilter | undefined): AsyncGenerator<string> {
    // A byte order mark, so that spreadsheet programs read the names as UTF-8.
    yield '\uFEFF' + csvRow(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created', 'Factors']);
    let after: { name: string; email: string } | undefined;
    for (;;) {
      const builder = this.usersQuery(admin, search, show).addSelect('LOWER(u.name)', 'sort_name');
      if (after) {
        builder.andWhere('LOWER(u.name) >= :afterName AND (LOWER(u.name) > :afterName OR u.email > :afterEmail)', {
          afterName: after.name,
          afterEmail: after.email,
        });
      }
      const { entities: users, raw } = await builder
        .orderBy('LOWER(u.name)', 'ASC')
        .addOrderBy('u.email', 'ASC')
        .limit(USERS_CSV_BATCH)
        .getRawAndEntities<{ sort_name: string; u_email: string }>();
      if (users.length) {
        const [states, kinds] = await Promise.all([
          this.factors.states(users),
          this.factors.kindsOf(users.map((user) => user.id)),
        ]);
        yield users
          .map((user) =>
            csvRow([
              user.name,
              user.email,
              ROLE_LABELS[user.role],
              TWO_FACTOR_STATE_WORDS[states.get(user.id)!],
              user.lastLoginAt?.toISOString() ?? '',
              user.createdAt.toISOString(),
              factorWords(kinds.get(user.id)!),
            ]),
          )
          .join('');
      }
      if (users.length < USERS_CSV_BATCH) return;
      const last = raw[raw.length - 1];
      after = { name: String(last.sort_name), email: String(last.u_email) };
    }
  }

  /** The users of the admin's organizer (never another's), matching the search and the filter. */
  private usersQuery(admin: User, search: string, show: UserFilter | undefined) {
    const builder = this.users.inOrganizer(admin.organizerId);
    if (search) {
      builder.andWhere("(LOWER(u.name) LIKE :pattern ESCAPE '\\' OR LOWER(u.email) LIKE :pattern ESCAPE '\\')", {
        pattern: `%${escapeLike(search.toLowerCase())}%`,
      });
    }
    if (show === 'not-set-up') builder.andWhere(`NOT ${this.factors.confirmedSql('u.id')}`);
    return builder;
  }
}

/** "Authenticator app, Passkey": the kinds of second factor a person has, as the list and the CSV show them. */
function factorWords(kinds: FactorKindName[]): string {
  return kinds.map((kind) => FACTOR_KIND_WORDS[kind]).join(', ');
}

/** LIKE wildcards typed in the search box match themselves (`\` is the escape character). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
