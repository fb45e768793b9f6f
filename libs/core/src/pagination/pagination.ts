import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 100;
/**
 * The last page anyone may ask for. It keeps the offset at most (MAX_PAGE - 1) * MAX_PAGE_SIZE = 999,900 rows: a number
 * PostgreSQL takes, and already a slow scan. A page number past any bound used to reach the database as an offset
 * out of bigint's range (a 500).
 */
export const MAX_PAGE = 10_000;

/** `?page=1&limit=20`, limit at most 100, page at most 10,000. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 20;

  get offset(): number {
    return (this.page - 1) * this.limit;
  }
}

/** The `meta` of every page: which page this is, its size, and how many items there are in all. */
export class PageMetaDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 }) page: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, example: 20 }) limit: number;
  @ApiProperty({ type: 'integer', minimum: 0, example: 1, description: 'Items matching the query, on every page' }) total: number;
}

export interface Page<T> {
  data: T[];
  meta: PageMetaDto;
}

export function toPage<T>(data: T[], total: number, query: { page: number; limit: number }): Page<T> {
  return { data, meta: { page: query.page, limit: query.limit, total } };
}
