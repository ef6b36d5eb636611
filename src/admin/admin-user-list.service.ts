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
   * columns Name, Email, Role, 2FA (PRODUCT.md's words), Last sign-in and Created (ISO 8601).
   */
  async exportCsv(admin: User, query: ListUsersQuery): Promise<{ filename: string; body: string }> {
    const search = (query.q ?? '').trim().slice(0, 100);
    const [organizer, users] = await Promise.all([
      this.organizers.getById(admin.organizerId),
      this.usersQuery(admin, search, query.show).orderBy('LOWER(u.name)', 'ASC').addOrderBy('u.email', 'ASC').getMany(),
    ]);
    const [states, kinds] = await Promise.all([
      this.factors.states(users),
      this.factors.kindsOf(users.map((user) => user.id)),
    ]);
    const lines = [csvRow(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created', 'Factors'])];
    for (const user of users) {
      const state = TWO_FACTOR_STATE_WORDS[states.get(user.id)!];
      lines.push(
        csvRow([
          user.name,
          user.email,
          ROLE_LABELS[user.role],
          state,
          user.lastLoginAt?.toISOString() ?? '',
          user.createdAt.toISOString(),
          factorWords(kinds.get(user.id)!),
        ]),
      );
    }
    const filename = `users-${fileNamePart(organizer.name)}-${this.clock.now().toISOString().slice(0, 10)}.csv`;
    // A byte order mark, so that spreadsheet programs read the names as UTF-8.
    return { filename, body: '\uFEFF' + lines.join('') };
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
