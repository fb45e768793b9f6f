import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@tenantry/users';

export class InvitationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ enum: ['queued'], enumName: 'InvitationDelivery', description: 'The message goes out through a queued job' })
  delivery: 'queued';
}

export class AcceptInvitationDto {
  @ApiProperty({ description: 'The token from the invitation message', example: 'inv_…', writeOnly: true, maxLength: 256 })
  @IsString()
  @MaxLength(256)
  token: string;

  @ApiProperty({ writeOnly: true, minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, description: 'The password the user logs in with from now on' })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}
