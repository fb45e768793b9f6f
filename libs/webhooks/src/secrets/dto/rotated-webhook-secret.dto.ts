import { ApiProperty } from '@nestjs/swagger';

export class RotatedWebhookSecretDto {
  @ApiProperty({
    description: 'The new signing secret: shown once, stored only encrypted. Standard Webhooks senders key HMAC-SHA256 with its base64-decoded part',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until when the secret this one replaced keeps working (WEBHOOK_SECRET_GRACE after now); null when there was none',
  })
  previousValidUntil: string | null;
}
