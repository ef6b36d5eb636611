import { Injectable } from '@nestjs/common';
import { SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { FormException } from '../common/exceptions';
import { OrganizersService } from '../organizers/organizers.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { FACTOR_KIND_WORDS } from '../two-factor/factors/second-factor';
import { TWO_FACTOR_STATE_WORDS } from '../two-factor/factors/two-factor-state';
import { I18n } from '../i18n/i18n.service';
import type { Language } from '../i18n/languages';
import { currentLanguage } from '../i18n/request-locale';
import type { Message } from '../common/message';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { ROLE_LABELS, stateView } from './admin-views';
import { csvRow, fileNamePart } from './csv';
import { ListUsersQuery, UserFilter } from './dto/list-users.query';
import { decodeListCursor, encodeListCursor, ListKey, UserListCursor } from './user-list-cursor';

export const LIST_VIEW = 'admin/users/list';
export const USERS_PER_PAGE = 20;
/** A page and one more row: whether there is a page beyond, in the direction read, without counting. */
const LIST_WINDOW = USERS_PER_PAGE + 1;
/** `?page=N` (old links) is read by OFFSET up to this page: at most 200 index entries stepped over. */
export const OFFSET_PAGES = 10;
/** A search counts its matches up to this many: "1,000+ users matching …" beyond, and no page count. */
export const SEARCH_COUNT_CAP = 1000;
/** The list's sort key, written exactly as the index expression (AddUserListOrderIndex) for the planners to match it. */
const SORT_NAME = 'LOWER(u.name)';
/**
 * The CSV export reads this many users per query, writing each batch before the next. Measured
 * with bench/users-export.js (300k users): on SQLite, whose queries block the event loop, a
 * sign-in needs a few turns of it and waits a batch at each: GET /login p99 during an export
 * was 108 ms with batches of 1,000, 71 ms with 250, 30 ms with 100 (and the export no slower).
 * On PostgreSQL, for 250 ids or more the planner may hash every active authenticator of the
 * database for each batch (60+ ms a query at 1,000); for 100 it probes the (user_id, slot) index.
 */
export const USERS_CSV_BATCH = 100;
/** The CSV's columns (message keys): Name, Email, Role, 2FA, Last sign-in, Created, Factors in English. */
const CSV_HEADERS = [
  'account.name',
  'signIn.email',
  'dashboard.role',
  'adminUsers.column.twoFactor',
  'adminUsers.column.lastSignIn',
  'adminUsers.column.created',
  'adminUsers.column.factors',
] as const;

interface ListFilter {
  search: string;
  show: UserFilter | undefined;
  /** A search of 3 characters or more with more than SEARCH_COUNT_CAP matches: walk the list's order testing each user, rather than sort every match (userSearch). */
  dense?: boolean;
}

interface ListRow {
  user: User;
  key: ListKey;
}

/** A page as read: its rows in order, its number (0: not known) and whether pages lie before and after it. */
interface ListPage {
  rows: ListRow[];
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
}

/** What read() reads: after or before a row, from a name, or from the end (backward); or an OFFSET. */
interface ReadWindow {
  after?: ListKey;
  before?: ListKey;
  from?: string;
  backward?: boolean;
  offset?: number;
  limit: number;
}

/** Users → the list of the admin's organizer, its search and filter, its adoption counts, and the same as CSV. */
@Injectable()
export class AdminUserListService {
  constructor(
    private readonly users: UsersService,
    private readonly factors: SecondFactors,
    private readonly organizers: OrganizersService,
    private readonly clock: Clock,
    private readonly i18n: I18n,
  ) {}

  /**
   * A page of the admin's organizer's users in the list's order (LOWER(name), email), searched
   * by name or email (userSearch), optionally only those without a second factor; with the
   * organizer's 2FA adoption counts. Every page is a keyset read of LIST_WINDOW rows on an
   * index of that order, whatever its depth:
   * - the first page, and `?after=` (Next): forward from the start or from the cursor's row;
   * - `?before=` (Previous): backward from the cursor's row, reversed (back at the start when
   *   fewer than a page remain before it: the first page, full);
   * - `?page=N`, old links: N ≥ the number of pages is the last page (read backward from the
   *   end, total % 20 || 20 rows); 2 ≤ N ≤ OFFSET_PAGES by OFFSET (cheap that shallow); a deeper
   *   N the first page with a note (offering Next and the "go to" field);
   * - `?from=text` ("Go to"): forward from the first name ≥ the text, page number unknown.
   * The totals are not counted here: all users and "not set up" are the adoption counts (kept
   * by the database), a search counts at most SEARCH_COUNT_CAP matches. A cursor that is not
   * one this app wrote is a 400 with the first page and the message.
   */
  async list(admin: User, query: ListUsersQuery) {
    const searched = { search: cleanSearch(query.q), show: query.show };
    const [adoption, organizer, matches] = await Promise.all([
      this.factors.adoption(admin.organizerId),
      this.organizers.getById(admin.organizerId),
      searched.search ? this.boundedCount(admin, searched) : undefined,
    ]);
    const total = matches ?? (searched.show === 'not-set-up' ? adoption.notSetUp : adoption.total);
    const capped = matches !== undefined && matches > SEARCH_COUNT_CAP;
    const filter: ListFilter = { ...searched, dense: capped };
    const pages = capped ? undefined : Math.max(1, Math.ceil(total / USERS_PER_PAGE));
    const from = (query.from ?? '').trim().slice(0, 100);
    const cursorText = query.after ?? query.before;
    const cursor = cursorText === undefined ? undefined : decodeListCursor(cursorText);
    const { window, note } = await this.position(admin, filter, {
      query,
      cursor,
      forged: cursorText !== undefined && !cursor,
      from,
      total,
      pages,
    });
    // The edges settle the number the cursor carried (people may have been added or removed since).
    let page = window.page;
    if (!window.hasPrevious) page = 1;
    else if (!window.hasNext && pages !== undefined) page = pages;
    if (pages !== undefined && page > pages) page = pages;

    const users = window.rows.map((row) => row.user);
    const [states, kinds] = await Promise.all([
      this.factors.states(users),
      this.factors.kindsOf(users.map((user) => user.id)),
    ]);
    const filters = { ...(filter.search ? { q: filter.search } : {}), ...(filter.show ? { show: filter.show } : {}) };
    const link = (extra: Record<string, string>) => `/admin/users?${new URLSearchParams({ ...filters, ...extra })}`;
    const first = window.rows[0];
    const last = window.rows[window.rows.length - 1];
    const exportQuery = new URLSearchParams(filters).toString();
    const model = {
      title: 'layout.nav.users',
      q: filter.search,
      show: filter.show,
      from,
      note,
      notSetUp: filter.show === 'not-set-up',
      filtered: !!(filter.search || filter.show),
      total,
      cap: SEARCH_COUNT_CAP,
      capped,
      page: page || undefined,
      pages,
      paginated: window.hasPrevious || window.hasNext,
      firstHref: window.hasPrevious ? `/admin/users${exportQuery ? `?${exportQuery}` : ''}` : undefined,
      previousHref: window.hasPrevious
        ? link({ before: encodeListCursor({ ...first.key, page: page > 1 ? page - 1 : 0 }) })
        : undefined,
      nextHref: window.hasNext
        ? link({ after: encodeListCursor({ ...last.key, page: page ? page + 1 : 0 }) })
        : undefined,
      lastHref: window.hasNext && pages !== undefined ? link({ page: String(pages) }) : undefined,
      exportHref: `/admin/users/export.csv${exportQuery ? `?${exportQuery}` : ''}`,
      adoption,
      policyOn: organizer.requireTwoFactor,
      users: users.map((user) => ({
        id: user.id,
        name: user.name,
        email: user.email,
        role: ROLE_LABELS[user.role],
        ...stateView(states.get(user.id)!),
        factors: kinds.get(user.id)!.map((kind) => FACTOR_KIND_WORDS[kind]),
        accountLocked: !!user.accountLockedAt,
        invited: !user.passwordHash,
        lastLoginAt: user.lastLoginAt,
        isSelf: user.id === admin.id,
      })),
    };
    if (cursorText !== undefined && !cursor) {
      // 400, the first page with the message (the layout's error summary), never a 500.
      throw new FormException(LIST_VIEW, model, {
        form: 'adminUsers.list.forgedCursor',
      });
    }
    return model;
  }

  /** Which page the request asks for (see list), read. */
  private async position(
    admin: User,
    filter: ListFilter,
    asked: {
      query: ListUsersQuery;
      cursor: UserListCursor | undefined;
      forged: boolean;
      from: string;
      total: number;
      pages: number | undefined;
    },
  ): Promise<{ window: ListPage; note?: Message }> {
    const { query, cursor, from, total, pages } = asked;
    const page = query.page ?? 1;
    if (asked.forged) return { window: await this.firstPage(admin, filter) };
    if (cursor && query.after !== undefined)
      return { window: await this.pageAfter(admin, filter, cursor, total, pages) };
    if (cursor) return { window: await this.pageBefore(admin, filter, cursor) };
    if (from) return { window: await this.pageFrom(admin, filter, from) };
    if (page > 1 && pages !== undefined && page >= pages)
      return { window: await this.lastPage(admin, filter, total, pages) };
    if (page > 1 && page <= OFFSET_PAGES) {
      const window = await this.pageAt(admin, filter, page);
      return { window: window.rows.length ? window : await this.firstPage(admin, filter) };
    }
    const note = page > OFFSET_PAGES ? { key: 'adminUsers.list.deepPage', values: { page } } : undefined;
    return { window: await this.firstPage(admin, filter), note };
  }

  /** The first page: forward from the start. */
  private async firstPage(admin: User, filter: ListFilter): Promise<ListPage> {
    const rows = await this.read(admin, filter, { limit: LIST_WINDOW });
    return { rows: rows.slice(0, USERS_PER_PAGE), page: 1, hasPrevious: false, hasNext: rows.length > USERS_PER_PAGE };
  }

  /** Next: forward from the cursor's row (past the end, when the rows after it are gone: the last page). */
  private async pageAfter(
    admin: User,
    filter: ListFilter,
    cursor: UserListCursor,
    total: number,
    pages: number | undefined,
  ): Promise<ListPage> {
    const rows = await this.read(admin, filter, { after: cursor, limit: LIST_WINDOW });
    if (!rows.length)
      return pages === undefined ? this.firstPage(admin, filter) : this.lastPage(admin, filter, total, pages);
    return {
      rows: rows.slice(0, USERS_PER_PAGE),
      page: cursor.page,
      hasPrevious: true,
      hasNext: rows.length > USERS_PER_PAGE,
    };
  }

  /** Previous: backward from the cursor's row; the first page when less than a page is before it. */
  private async pageBefore(admin: User, filter: ListFilter, cursor: UserListCursor): Promise<ListPage> {
    const rows = await this.read(admin, filter, { before: cursor, limit: LIST_WINDOW });
    if (rows.length <= USERS_PER_PAGE) return this.firstPage(admin, filter);
    return { rows: rows.slice(1), page: cursor.page, hasPrevious: true, hasNext: true };
  }

  /** "Go to": forward from the first name ≥ the text (lowered as the index is, by the database); one row before it tells whether there is a Previous. */
  private async pageFrom(admin: User, filter: ListFilter, from: string): Promise<ListPage> {
    const rows = await this.read(admin, filter, { from, limit: LIST_WINDOW });
    if (!rows.length) return this.firstPage(admin, filter);
    const before = await this.read(admin, filter, { before: rows[0].key, limit: 1 });
    return {
      rows: rows.slice(0, USERS_PER_PAGE),
      page: 0,
      hasPrevious: before.length > 0,
      hasNext: rows.length > USERS_PER_PAGE,
    };
  }

  /** `?page=N` for a shallow N (old links): OFFSET, cheap for the first OFFSET_PAGES pages. */
  private async pageAt(admin: User, filter: ListFilter, page: number): Promise<ListPage> {
    const rows = await this.read(admin, filter, { offset: (page - 1) * USERS_PER_PAGE, limit: LIST_WINDOW });
    return { rows: rows.slice(0, USERS_PER_PAGE), page, hasPrevious: true, hasNext: rows.length > USERS_PER_PAGE };
  }

  /** The last page: the index read backward from the end, as many rows as the last page has. */
  private async lastPage(admin: User, filter: ListFilter, total: number, pages: number): Promise<ListPage> {
    const rows = await this.read(admin, filter, { backward: true, limit: total % USERS_PER_PAGE || USERS_PER_PAGE });
    return { rows, page: pages, hasPrevious: pages > 1, hasNext: false };
  }

  /**
   * The one keyset read of the list and of the CSV: the users of matchingQueries in the list's
   * order (LOWER(name), email), after or before a row's key or from a name, `limit` of them,
   * in that order even when read backward. Email is unique, so the pair is a keyset: people
   * of the same name are ordered by email, none read twice or skipped at a page's edge. A
   * range on the (organizer_id, LOWER(name), email) index (AddUserListOrderIndex), or with the
   * filter on (organizer_id, has_second_factor, LOWER(name), email) (AddUserSearch). The key
   * of each row is the database's own LOWER(), as the index holds it. A short search reads
   * its own indexes (readUnion).
   */
  private async read(admin: User, filter: ListFilter, window: ReadWindow): Promise<ListRow[]> {
    const parts = this.matchingQueries(admin, filter);
    if (parts.length > 1) return this.readUnion(admin, parts, window);
    const builder = parts[0];
    // A search's order must not match an index on SQLite unless the search is dense (userSearch).
    const plus = filter.search && !filter.dense && builder.connection.options.type === 'better-sqlite3' ? '+' : '';
    inWindow(builder.addSelect(SORT_NAME, 'sort_name'), window, plus);
    const { entities, raw } = await builder.getRawAndEntities<{ sort_name: string; u_email: string }>();
    const rows = entities.map((user, i) => ({
      user,
      key: { name: String(raw[i].sort_name), email: String(raw[i].u_email) },
    }));
    return isBackward(window) ? rows.reverse() : rows;
  }

  /**
   * read() for a short search: the window of each way it matches (START_COLUMNS: the name, the
   * email), each a range of its own index in the list's order (AddSearchStartIndexes), as many
   * rows as the window reaches (an OFFSET's rows included); their union in the same order,
   * cut to the window by the database (which alone knows its collation's order); then those
   * users. Two index ranges of a page each, whatever the number of matches.
   */
  private async readUnion(admin: User, matching: SelectQueryBuilder<User>[], window: ReadWindow): Promise<ListRow[]> {
    const reach = { ...window, offset: undefined, limit: (window.offset ?? 0) + window.limit };
    const parts = matching.map((part) =>
      inWindow(part.select('u.id', 'id').addSelect(SORT_NAME, 'sort_name').addSelect('u.email', 'email'), reach),
    );
    const direction = isBackward(window) ? 'DESC' : 'ASC';
    const union = unionOf(parts).orderBy('sort_name', direction).addOrderBy('email', direction).limit(window.limit);
    if (window.offset) union.offset(window.offset);
    const keys = await union.getRawMany<{ id: string; sort_name: string; email: string }>();
    if (!keys.length) return [];
    const users = await this.users
      .inOrganizer(admin.organizerId)
      .andWhere('u.id IN (:...ids)', { ids: keys.map((key) => key.id) })
      .getMany();
    const byId = new Map(users.map((user) => [user.id, user]));
    // A user deleted between the two reads is no longer listed.
    const rows = keys.flatMap((key) => {
      const user = byId.get(key.id);
      return user ? [{ user, key: { name: String(key.sort_name), email: String(key.email) } }] : [];
    });
    return isBackward(window) ? rows.reverse() : rows;
  }

  /**
   * How many users match a search (and the filter), counting no further than SEARCH_COUNT_CAP + 1:
   * at most that many of each way it matches, told apart by email (unique) in their union. A
   * part cut at the cap makes the union more than the cap; parts under it count exactly.
   */
  private async boundedCount(admin: User, filter: ListFilter): Promise<number> {
    const limit = SEARCH_COUNT_CAP + 1;
    const matching = this.matchingQueries(admin, filter);
    // A short search's parts are its first matches in the list's order: the ranges its pages read.
    const parts = matching.map((part) =>
      matching.length > 1
        ? inWindow(part.select('u.email', 'email'), { limit })
        : part.select('u.email', 'email').limit(limit),
    );
    const matches = unionOf(parts);
    const row = await matches.select('COUNT(*)', 'n').getRawOne<{ n: string | number }>();
    return Number(row?.n ?? 0);
  }

  /**
   * The list as CSV (same search and filter, every page): only the admin's organizer;
   * columns Name, Email, Role, 2FA (PRODUCT.md's words), Last sign-in, Created (ISO 8601) and
   * Factors (CSV_HEADERS), in the list's order, the headers and words in the admin's language. Streamed: the rows are read and written a keyset batch at a
   * time (csvLines), so memory stays flat and the event loop turns between batches.
   */
  async exportCsv(admin: User, query: ListUsersQuery): Promise<{ filename: string; lines: AsyncIterable<string> }> {
    const organizer = await this.organizers.getById(admin.organizerId);
    const filename = `users-${fileNamePart(organizer.name)}-${this.clock.now().toISOString().slice(0, 10)}.csv`;
    const filter: ListFilter = { search: cleanSearch(query.q), show: query.show };
    if (filter.search && !isShortSearch(filter.search))
      filter.dense = (await this.boundedCount(admin, filter)) > SEARCH_COUNT_CAP;
    return { filename, lines: this.csvLines(admin, filter, currentLanguage()) };
  }

  /**
   * The CSV's lines, a batch of USERS_CSV_BATCH users at a time in the list's order: the list's
   * own keyset read (read), each batch after the last row of the one before. The 2FA states
   * and factors are asked per batch (a few queries of at most a batch of ids).
   */
  private async *csvLines(admin: User, filter: ListFilter, language: Language): AsyncGenerator<string> {
    // The headers and words in the admin's language (the request's); the dates are ISO 8601, data.
    const t = (key: string) => this.i18n.t(key, undefined, language);
    const headers = CSV_HEADERS.map(t);
    // A byte order mark, so that spreadsheet programs read the names as UTF-8.
    yield '\uFEFF' + csvRow(headers);
    let after: ListKey | undefined;
    for (;;) {
      const rows = await this.read(admin, filter, { after, limit: USERS_CSV_BATCH });
      const users = rows.map((row) => row.user);
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
              t(ROLE_LABELS[user.role]),
              t(TWO_FACTOR_STATE_WORDS[states.get(user.id)!]),
              user.lastLoginAt?.toISOString() ?? '',
              user.createdAt.toISOString(),
              kinds
                .get(user.id)!
                .map((kind) => t(FACTOR_KIND_WORDS[kind]))
                .join(', '),
            ]),
          )
          .join('');
      }
      if (users.length < USERS_CSV_BATCH) return;
      after = rows[rows.length - 1].key;
    }
  }

  /**
   * The users of the admin's organizer (never another's) matching the search and the filter:
   * one query, or for a short search one per way it matches (START_COLUMNS), their union the
   * matches.
   */
  private matchingQueries(admin: User, filter: ListFilter): SelectQueryBuilder<User>[] {
    const short = isShortSearch(filter.search);
    const parts = short
      ? START_COLUMNS.map((column) =>
          this.users
            .inOrganizer(admin.organizerId)
            .andWhere(`SUBSTR(${column}, 1, ${[...filter.search].length}) = :start`, {
              start: filter.search.toLowerCase(),
            }),
        )
      : [this.users.inOrganizer(admin.organizerId)];
    const sqlite = parts[0].connection.options.type === 'better-sqlite3';
    for (const builder of parts) {
      if (filter.search && !short) userSearch(builder, admin.organizerId, filter.search, !!filter.dense);
      // has_second_factor: kept by the database from the factor tables (AddAdoptionCounters), indexed in
      // the list's order. A short search's own index must lead on SQLite (`+`): the filter's index
      // would be walked through every user without a factor, testing each.
      if (filter.show === 'not-set-up') builder.andWhere(`${short && sqlite ? '+' : ''}u.has_second_factor = false`);
    }
    return parts;
  }
}

/** A search of 1 or 2 characters: too short for trigrams, it finds names and emails starting with it (START_COLUMNS). */
function isShortSearch(search: string): boolean {
  return search !== '' && [...search].length <= 2;
}

/**
 * The ways a short search matches, the one definition: the first characters of the lowered name
 * or of the email (stored lowered), each compared whole (`SUBSTR(x, 1, n) = :start`) on the
 * index of those characters in the list's order (AddSearchStartIndexes). Exact whatever the
 * database's collation, and the same matches on SQLite and PostgreSQL.
 */
const START_COLUMNS = [SORT_NAME, 'u.email'] as const;

/**
 * The search of the list and of the CSV for 3 characters or more, in the builder of the
 * organizer's users `u`: the name or the email contains the text, case-insensitively, and what
 * is typed is literal (quotes, %, _, *). SQLite: a phrase query on the FTS5 trigram table
 * users_search (AddUserSearch), `"` doubled; PostgreSQL: `LIKE '%…%'` on LOWER(name) and
 * LOWER(email), served by their pg_trgm GIN indexes. (Shorter searches: matchingQueries.)
 * Cost: the matches are found through those indexes, then sorted into the list's order (a
 * page's LIMIT keeps the sort to a page): proportional to the number of matches, not to the
 * organizer's size. When more than SEARCH_COUNT_CAP match (`dense`, known from the bounded
 * count), sorting them all would be the cost of the organizer again; then the list's order
 * index is walked and each user tested, which finds a page after about 20 × users / matches
 * rows (substrings are spread over the list's order, unlike prefixes). PostgreSQL's planner
 * makes that choice itself from its statistics; SQLite's cannot (no statistics of MATCH), so
 * it is told: `+` (a no-op on the value) keeps a term from being an index's way in: the
 * organizer's equality when the search's own conditions must lead (and the order, in read()).
 * On PostgreSQL the trigram indexes span every organizer (the organizer is a filter after
 * them), and a text without 3 letters or digits in a row ("%%%", "a.b") gives pg_trgm no
 * trigram to look up: correct, but it reads the whole index.
 */
function userSearch(builder: SelectQueryBuilder<User>, organizerId: string, search: string, dense: boolean): void {
  const lowered = search.toLowerCase();
  if (builder.connection.options.type === 'postgres') {
    builder.andWhere("(LOWER(u.name) LIKE :pattern ESCAPE '\\' OR LOWER(u.email) LIKE :pattern ESCAPE '\\')", {
      pattern: `%${escapeLike(lowered)}%`,
    });
    return;
  }
  // inOrganizer's equality stays (isolation); unless dense, it must not lead.
  if (!dense) builder.where('+"u"."organizer_id" = :organizerId', { organizerId });
  // The FTS rowids of the matches come from its index alone (no read of its stored columns);
  // users_search_keys turns them into users: all of them, or (dense) the user at hand.
  const matches = 'SELECT users_search.rowid FROM users_search WHERE users_search MATCH :phrase';
  builder.andWhere(
    dense
      ? `(SELECT k.rowid FROM users_search_keys k WHERE k.user_id = u.id) IN (${matches})`
      : `u.id IN (SELECT k.user_id FROM users_search_keys k WHERE k.rowid IN (${matches}))`,
    { phrase: `{name email} : "${lowered.replace(/"/g, '""')}"` },
  );
}

/** Whether a window is read from its end backward (Previous, Last). */
function isBackward(window: ReadWindow): boolean {
  return !!window.before || !!window.backward;
}

/**
 * A window of the list's order on a query of users `u` that selects the key SORT_NAME: after or
 * before a key, from a name, or from the end; ordered (ascending, or descending when read
 * backward) and cut to the window. `plus` ("+" on SQLite) keeps the order from matching an index.
 */
function inWindow<T extends SelectQueryBuilder<User>>(builder: T, window: ReadWindow, plus = ''): T {
  if (window.after) {
    builder.andWhere(`${SORT_NAME} >= :afterName AND (${SORT_NAME} > :afterName OR u.email > :afterEmail)`, {
      afterName: window.after.name,
      afterEmail: window.after.email,
    });
  }
  if (window.before) {
    builder.andWhere(`${SORT_NAME} <= :beforeName AND (${SORT_NAME} < :beforeName OR u.email < :beforeEmail)`, {
      beforeName: window.before.name,
      beforeEmail: window.before.email,
    });
  }
  if (window.from) builder.andWhere(`${SORT_NAME} >= LOWER(:from)`, { from: window.from });
  const direction = isBackward(window) ? 'DESC' : 'ASC';
  builder.orderBy(`${plus}${SORT_NAME}`, direction).addOrderBy(`${plus}u.email`, direction).limit(window.limit);
  if (window.offset) builder.offset(window.offset);
  return builder;
}

/**
 * The rows of these queries (same columns, same parameters), duplicates removed, as the query
 * `m` to select from. Each part may have its own ORDER BY and LIMIT: it is wrapped, which both
 * databases take inside a UNION.
 */
function unionOf(parts: SelectQueryBuilder<User>[]): SelectQueryBuilder<object> {
  const sql = parts.map((part, i) => `SELECT * FROM (${part.getQuery()}) p${i}`).join(' UNION ');
  return parts[0].connection
    .createQueryBuilder()
    .select('*')
    .from(`(${sql})`, 'm')
    .setParameters(Object.assign({}, ...parts.map((part) => part.getParameters())));
}

/** The search as typed, trimmed and cut to what the box takes. */
function cleanSearch(q: string | undefined): string {
  return (q ?? '').trim().slice(0, 100);
}

/** LIKE wildcards typed in the search box match themselves (`\` is the escape character). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
