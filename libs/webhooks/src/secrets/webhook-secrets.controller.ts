import { Controller, Param, PipeTransform, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { INTEGRATION_PROVIDERS, IntegrationProvider, Idempotent, Roles } from '@tenantry/core';
import { RotatedWebhookSecretDto } from './dto/rotated-webhook-secret.dto';
import { WebhookSecretError } from './webhook-secrets.errors';
import { WebhookSecretsService } from './webhook-secrets.service';

/** A provider named in the path, or 404 as the contract says for an unknown one. */
class ProviderPipe implements PipeTransform<string, IntegrationProvider> {
  transform(value: string): IntegrationProvider {
    if (!(INTEGRATION_PROVIDERS as readonly string[]).includes(value)) throw WebhookSecretError.unknownProvider();
    return value as IntegrationProvider;
  }
}

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins only' })
@Controller('v1/integrations')
export class WebhookSecretsController {
  constructor(private readonly secrets: WebhookSecretsService) {}

  @Post(':provider/webhook-secret')
  @Roles('admin')
  // A replay answers the same secret again, so the stored answer is sealed: never a secret in plaintext in Redis.
  @Idempotent({ sealResponse: true })
  @ApiParam({ name: 'provider', enum: INTEGRATION_PROVIDERS })
  @ApiOperation({
    summary: "Rotate the organization's webhook signing secret for a provider (admin)",
    description:
      'Answers a new secret, shown this once. The secret it replaces keeps verifying signatures until previousValidUntil ' +
      '(WEBHOOK_SECRET_GRACE from now); rotating again within that time ends the older one at once. The first call creates the secret.',
  })
  @ApiCreatedResponse({ type: RotatedWebhookSecretDto })
  @ApiNotFoundResponse({ description: 'No such provider' })
  rotate(@Param('provider', ProviderPipe) provider: IntegrationProvider): Promise<RotatedWebhookSecretDto> {
    return this.secrets.rotate(provider);
  }
}
