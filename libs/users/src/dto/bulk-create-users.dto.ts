import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';
import { CreateUserDto } from './create-user.dto';

export const BULK_MAX_USERS = 1000;

/**
 * POST /v1/users/bulk. Rows are not validated here: each is checked on its own by the service, so that one bad row
 * is reported as `invalid` instead of rejecting the whole request.
 */
export class BulkCreateUsersDto {
  @ApiProperty({ type: [CreateUserDto], maxItems: BULK_MAX_USERS, minItems: 1 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_USERS, { message: `users must contain at most ${BULK_MAX_USERS} rows` })
  users: unknown[];
}

export const BULK_ROW_STATUSES = ['created', 'conflict', 'invalid'] as const;
export type BulkRowStatus = (typeof BULK_ROW_STATUSES)[number];

export class BulkRowResultDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: BULK_MAX_USERS - 1, description: 'The row\'s position in `users`, from 0' }) index: number;
  @ApiProperty({ enum: BULK_ROW_STATUSES, enumName: 'BulkRowStatus' }) status: BulkRowStatus;
  @ApiPropertyOptional({ format: 'uuid', description: 'The new user\'s id, for created rows' }) id?: string;
  @ApiPropertyOptional({ description: 'Why the row was not created' }) error?: string;
}

export class BulkCreateUsersResultDto {
  @ApiProperty({ type: [BulkRowResultDto], description: 'One per row, in order' }) results: BulkRowResultDto[];
}
