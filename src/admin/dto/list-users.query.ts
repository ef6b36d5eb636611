import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';

/** `/admin/users?q=…&page=…`. Lenient: a bad page number is page 1, a long search is cut. */
export class ListUsersQuery {
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().slice(0, 100) : ''))
  @IsString()
  q?: string;

  @IsOptional()
  @Transform(({ value }) => {
    const page = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : 1;
    return Math.max(1, page);
  })
  @IsInt()
  @Min(1)
  page?: number;
}
