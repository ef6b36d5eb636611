import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { AuditType, describeEvent, EventView } from '../../audit/security-events';
import { Clock } from '../../common/clock';
import { FormException } from '../../common/exceptions';
import { type Message, messageParts } from '../../common/message';
import { I18n } from '../../i18n/i18n.service';
import { currentLanguage } from '../../i18n/request-locale';
import { OrganizersService } from '../../organizers/organizers.service';
import { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { userPath } from '../admin-views';
import { csvRow, fileNamePart } from '../csv';
import { SecurityLogQuery } from './dto/security-log.query';
import { CHARTED_TYPES, groupOf, KIND_CHOICES, typesOfKind } from './event-kinds';
import { decodeCursor, encodeCursor, LogCursor } from './log-cursor';
import { buildSecurityChart, CHART_DAYS } from './security-chart';
import { DAY_MS, dayNumber, parseUtcDay } from './utc-day';

export const EVENTS_PER_PAGE = 50;
/** The CSV export reads the log in keyset batches of this many rows, writing each before reading the next. */
export const CSV_BATCH = 1000;
export const SECURITY_LOG_VIEW = 'admin/security-log';
const PATH = '/admin/security-log';

/** The filters as typed (kept in the form), and what they select once understood. */
interface ParsedFilters {
  form: { person: string; kind: string; from: string; to: string };
  select: { userId?: string; types?: AuditType[]; from?: number; until?: number };
  person?: Pick<User, 'id' | 'name' | 'email'>;
  cursor?: LogCursor;
  errors: Record<string, Message>;
}

/** One row of the log as read: the event and, when it is about someone of the organizer, who. */
interface LogRow {
  id: string;
  type: string;
  detail: string | null;
  actorId: string | null;
  ip: string | null;
  createdAt: Date;
  userId: string | null;
  userName: string | null;
  userEmail: string | null;
}

/**
 * Security log: every security event of the admin's organizer, newest first, filtered by
 * person, kind and days, a keyset page at a time (never OFFSET), the same as a streamed CSV,
 * and the chart of the last 30 days. The organizer is always the signed-in admin's.
 */
@Injectable()
export class SecurityLogService {
  constructor(
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly organizers: OrganizersService,
    private readonly clock: Clock,
    private readonly i18n: I18n,
  ) {}

  /**
   * A page of the log (50 events) below the cursor, with the chart. Filters that cannot be
   * understood (a date that is not one, from after to, an email of no one in the organizer, a
   * changed cursor) are the same page again with the message and the input kept (400).
   */
  async page(admin: User, query: SecurityLogQuery) {
    const [chart, parsed] = await Promise.all([this.chart(admin.organizerId), this.parse(admin, query)]);
    const base = this.base(chart, parsed);
    if (Object.keys(parsed.errors).length) {
      throw new FormException(SECURITY_LOG_VIEW, { ...base, events: [] }, parsed.errors);
    }
    const rows = await this.rows(admin.organizerId, parsed.select, parsed.cursor, EVENTS_PER_PAGE + 1);
    const shown = rows.slice(0, EVENTS_PER_PAGE);
    const last = shown[shown.length - 1];
    const names = await this.users.namesIn(
      admin.organizerId,
      shown.map((row) => row.actorId),
    );
    const filters = filterParams(parsed.form);
    return {
      ...base,
      summary: this.summary(parsed),
      events: shown.map((row) => ({
        ...this.words(
          describeEvent(row, (id) => names.get(id)),
          !!row.userName,
        ),
        ip: row.ip,
        at: row.createdAt,
        iso: row.createdAt.toISOString(),
        person:
          row.userId && row.userName
            ? { href: userPath({ id: row.userId }), name: row.userName, email: row.userEmail }
            : null,
      })),
      continued: !!parsed.cursor,
      olderHref:
        rows.length > EVENTS_PER_PAGE
          ? href(PATH, { ...filters, before: encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) })
          : undefined,
      newestHref: parsed.cursor ? href(PATH, filters) : undefined,
      paginated: rows.length > EVENTS_PER_PAGE || !!parsed.cursor,
      exportHref: href(`${PATH}/export.csv`, filters),
    };
  }

  /**
   * The log as CSV with the same filters, every matching event (not a page): the filters are
   * checked first (a 400 page before anything is sent), then the rows are written as they are
   * read, a keyset batch at a time. Cells go through csvCell (formula-safe).
   */
  async exportCsv(admin: User, query: SecurityLogQuery): Promise<{ filename: string; lines: AsyncIterable<string> }> {
    const parsed = await this.parse(admin, { ...query, before: undefined });
    // Filters that cannot be understood: the log page with the messages (400), nothing sent as CSV.
    if (Object.keys(parsed.errors).length) {
      const chart = await this.chart(admin.organizerId);
      throw new FormException(SECURITY_LOG_VIEW, { ...this.base(chart, parsed), events: [] }, parsed.errors);
    }
    const organizer = await this.organizers.getById(admin.organizerId);
    const filename = `security-log-${fileNamePart(organizer.name)}-${this.clock.now().toISOString().slice(0, 10)}.csv`;
    return { filename, lines: this.csvLines(admin.organizerId, parsed.select) };
  }

  private async *csvLines(organizerId: string, select: ParsedFilters['select']): AsyncGenerator<string> {
    // A byte order mark, so that spreadsheet programs read the names as UTF-8.
    // The headers and the words in the admin's language (the request's); times, names and addresses are data.
    const t = (key: string) => this.i18n.t(key);
    yield (
      '\uFEFF' +
      csvRow([
        t('securityLog.col.time'),
        t('securityLog.col.person'),
        t('securityLog.col.email'),
        t('securityLog.col.event'),
        t('securityLog.col.note'),
        t('securityLog.col.by'),
        t('securityLog.col.clientAddress'),
      ])
    );
    const names = new Map<string, string>();
    const asked = new Set<string>();
    let cursor: LogCursor | undefined;
    for (;;) {
      const rows = await this.rows(organizerId, select, cursor, CSV_BATCH);
      const unknown = [...new Set(rows.map((row) => row.actorId).filter((id): id is string => !!id && !asked.has(id)))];
      if (unknown.length) {
        for (const [id, name] of await this.users.namesIn(organizerId, unknown)) names.set(id, name);
        unknown.forEach((id) => asked.add(id));
      }
      if (rows.length) {
        yield rows
          .map((row) => {
            const event = this.words(
              describeEvent(row, (id) => names.get(id)),
              !!row.userName,
            );
            return csvRow([
              row.createdAt.toISOString(),
              row.userName,
              row.userEmail,
              event.label,
              event.note,
              event.by ?? '',
              row.ip,
            ]);
          })
          .join('');
      }
      if (rows.length < CSV_BATCH) return;
      const last = rows[rows.length - 1];
      cursor = { createdAt: last.createdAt.getTime(), id: last.id };
    }
  }

  /** The chart of the last 30 UTC days (today included, by the injected clock), counted in SQL. */
  private async chart(organizerId: string) {
    const today = dayNumber(this.clock.now());
    const first = today - CHART_DAYS + 1;
    const counted = await this.audit.countPerDay(
      organizerId,
      CHARTED_TYPES,
      new Date(first * DAY_MS),
      new Date((today + 1) * DAY_MS),
    );
    return buildSecurityChart(
      counted.flatMap(({ type, day, count }) => {
        const group = groupOf(type);
        return group ? [{ group, day, count }] : [];
      }),
      today,
      { language: currentLanguage(), t: (key, values) => this.i18n.t(key, values) },
    );
  }

  /**
   * `limit` events of the organizer below `cursor`, newest first by (created_at, id). The
   * cursor is a range on created_at (every index used here has it after its equality
   * columns), the id only breaks ties at its instant: each page reads about `limit` rows,
   * however deep. A kind of several types is one query per type, each on the (organizer,
   * type, created_at) index in order, merged here: no database merges ordered index
   * scans of an IN list, they would read every event of those types and sort them. An event
   * about a person of another organizer is never read, whatever its organizer_id says.
   */
  async rows(
    organizerId: string,
    select: ParsedFilters['select'],
    cursor: LogCursor | undefined,
    limit: number,
  ): Promise<LogRow[]> {
    const types = select.types ?? [undefined];
    const parts = await Promise.all(types.map((type) => this.rowsOfType(organizerId, select, type, cursor, limit)));
    return parts.length === 1 ? parts[0] : parts.flat().sort(newestFirst).slice(0, limit);
  }

  private async rowsOfType(
    organizerId: string,
    select: ParsedFilters['select'],
    type: AuditType | undefined,
    cursor: LogCursor | undefined,
    limit: number,
  ): Promise<LogRow[]> {
    const query = this.audit
      .inOrganizer(organizerId)
      .leftJoin(User, 'u', 'u.id = e.userId')
      .andWhere('(u.id IS NULL OR u.organizerId = :organizerId)', { organizerId })
      .select('e.id', 'id')
      .addSelect('e.type', 'type')
      .addSelect('e.detail', 'detail')
      .addSelect('e.actorId', 'actorId')
      .addSelect('e.ip', 'ip')
      .addSelect('e.createdAt', 'createdAt')
      .addSelect('e.userId', 'userId')
      .addSelect('u.name', 'userName')
      .addSelect('u.email', 'userEmail');
    if (select.userId) query.andWhere('e.userId = :userId', { userId: select.userId });
    if (type) query.andWhere('e.type = :type', { type });
    if (select.from !== undefined) query.andWhere('e.createdAt >= :from', { from: select.from });
    if (select.until !== undefined) query.andWhere('e.createdAt < :until', { until: select.until });
    if (cursor) {
      query.andWhere('e.createdAt <= :cursorAt AND (e.createdAt < :cursorAt OR e.id < :cursorId)', {
        cursorAt: cursor.createdAt,
        cursorId: cursor.id,
      });
    }
    query.orderBy('e.createdAt', 'DESC').addOrderBy('e.id', 'DESC').limit(limit);
    // A person's events on their index, one type's on the type index (ties at one instant sorted
    // by id then, a few rows); the rest in the organizer's index order.
    type Raw = Omit<LogRow, 'createdAt'> & { createdAt: string | number };
    const raw = select.userId
      ? await this.audit.rawRows<Raw>(query, 'person')
      : type
        ? await this.audit.rawRows<Raw>(query, 'type')
        : await query.getRawMany<Raw>();
    return raw.map((row) => ({ ...row, createdAt: new Date(Number(row.createdAt)) }));
  }

  /** What every version of the page shows: the chart and the filters as typed. */
  private base(chart: Awaited<ReturnType<SecurityLogService['chart']>>, parsed: ParsedFilters) {
    return {
      title: 'securityLog.title',
      chart,
      form: parsed.form,
      kinds: this.kindChoices(parsed.form.kind),
      filtered: Object.values(parsed.form).some(Boolean),
    };
  }

  /** An event's label, note and who did it, in the language of the request (the page's, the CSV's). */
  private words(
    event: EventView,
    aboutSomeone: boolean,
  ): { label: string; note?: string; by?: string; byThePerson: boolean } {
    return {
      byThePerson: !event.byKey && !event.by && aboutSomeone,
      label: this.text(event.label),
      note: event.note ? this.text(event.note) : undefined,
      by: event.byKey
        ? this.i18n.t(event.byKey)
        : (event.by ?? (aboutSomeone ? this.i18n.t('securityLog.byTheUser') : undefined)),
    };
  }

  private text(message: Message): string {
    const { key, values } = messageParts(message);
    return this.i18n.t(key, values);
  }

  /** The kind filter's choices in the page's language, the events by their label (alphabetical there), the chosen one marked. */
  private kindChoices(chosen: string) {
    const language = currentLanguage();
    const mark = (choice: { value: string; label: string }) => ({
      value: choice.value,
      label: this.i18n.t(choice.label),
      selected: choice.value === chosen,
    });
    return {
      groups: KIND_CHOICES.groups.map(mark),
      events: KIND_CHOICES.events.map(mark).sort((a, b) => a.label.localeCompare(b.label, language)),
    };
  }

  /** The table's caption: what it shows. */
  private summary(parsed: ParsedFilters): string {
    const { form, person } = parsed;
    const kind = [...KIND_CHOICES.groups, ...KIND_CHOICES.events].find((choice) => choice.value === form.kind);
    return this.i18n.t('securityLog.summary', {
      person: person ? 'yes' : 'none',
      name: person?.name ?? '',
      email: person?.email ?? '',
      kind: kind ? 'yes' : 'none',
      kindLabel: kind ? this.i18n.t(kind.label) : '',
      dates: form.from && form.to ? 'both' : form.from ? 'from' : form.to ? 'to' : 'none',
      from: form.from,
      to: form.to,
    });
  }

  /** The filters as typed, what they select, and a message for each that cannot be understood. */
  private async parse(admin: User, query: SecurityLogQuery): Promise<ParsedFilters> {
    const form = { person: query.person ?? '', kind: query.kind ?? '', from: query.from ?? '', to: query.to ?? '' };
    const parsed: ParsedFilters = { form, select: {}, errors: {} };
    if (form.person || query.user) {
      // By email (the form) or by id (a link from a user's page, which then shows as the email).
      const user = form.person ? await this.users.findByEmail(form.person) : await this.users.findById(query.user!);
      // Someone of another organizer is no one here: the same message as an unknown person.
      if (user && user.organizerId === admin.organizerId) {
        parsed.select.userId = user.id;
        parsed.person = user;
        form.person ||= user.email;
      } else if (form.person) {
        parsed.errors.person = { key: 'securityLog.error.noSuchEmail', values: { email: form.person } };
      } else {
        parsed.errors.person = 'securityLog.error.notInOrganizer';
      }
    }
    if (form.kind) {
      const types = typesOfKind(form.kind);
      if (types) parsed.select.types = types;
      else parsed.errors.kind = 'securityLog.error.kind';
    }
    const from = form.from ? parseUtcDay(form.from) : undefined;
    if (form.from && from === undefined)
      parsed.errors.from = { key: 'securityLog.error.fromNotDate', values: { value: form.from } };
    const to = form.to ? parseUtcDay(form.to) : undefined;
    if (form.to && to === undefined)
      parsed.errors.to = { key: 'securityLog.error.toNotDate', values: { value: form.to } };
    if (from !== undefined) parsed.select.from = from;
    if (to !== undefined) parsed.select.until = to + DAY_MS;
    if (from !== undefined && to !== undefined && from > to) parsed.errors.to = 'securityLog.error.toBeforeFrom';
    if (query.before) {
      parsed.cursor = decodeCursor(query.before);
      if (!parsed.cursor) parsed.errors.form = 'securityLog.error.cursor';
    }
    return parsed;
  }
}

/**
 * The log's order, for merging the queries of a kind: (created_at, id) descending. Ids are
 * UUIDs (lower-case hex, hyphens in fixed places): every collation orders them as this does.
 */
function newestFirst(a: LogRow, b: LogRow): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The non-empty filters, in the form's order, for links (Older, Newest, Export CSV). */
function filterParams(form: ParsedFilters['form']): Record<string, string> {
  return Object.fromEntries(Object.entries(form).filter(([, value]) => value));
}

function href(path: string, params: Record<string, string>): string {
  const query = new URLSearchParams(params).toString();
  return query ? `${path}?${query}` : path;
}
