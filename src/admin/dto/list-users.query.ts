import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';

/** The list's filters besides the search: "Not set up yet" is users without an active authenticator. */
export const USER_FILTERS = ['not-set-up'] as const;
export type UserFilter = (typeof USER_FILTERS)[number];

/** A text parameter as given (the first one if repeated), or undefined. */
const oneText = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;

/**
 * `/admin/users?q=…&show=…` and a position: `page=…` (old links), `after=…` / `before=…` (the
 * Next and Previous cursors, checked by the list: a changed one is a 400 page) or `from=…`
 * ("Go to" a name). Also the CSV export's (q and show only). Lenient: a bad page number is
 * page 1, a long search is cut, an unknown filter is none.
 */
export class ListUsersQuery {
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().slice(0, 100) : ''))
  @IsString()
  q?: string;

  @IsOptional()
  @Transform(({ value }) => (USER_FILTERS.includes(value) ? value : undefined))
  @IsIn(USER_FILTERS)
  show?: UserFilter;

  @IsOptional()
  @Transform(({ value }) => {
    const page = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : 1;
    return Math.max(1, page);
  })
  @IsInt()
  @Min(1)
  page?: number;

  @IsOptional()
  @Transform(oneText)
  @IsString()
  after?: string;

  @IsOptional()
  @Transform(oneText)
  @IsString()
  before?: string;

  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().slice(0, 100) : ''))
  @IsString()
  from?: string;
}
