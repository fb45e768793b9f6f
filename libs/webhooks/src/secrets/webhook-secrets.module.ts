import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhookSecret } from './webhook-secret.entity';
import { WebhookSecretsController } from './webhook-secrets.controller';
import { WebhookSecretsService } from './webhook-secrets.service';

/** Webhook signing secrets: the API gets the rotation route (`http: true`); any process can read them. */
@Module({})
export class WebhookSecretsModule {
  static forRoot(options: { http: boolean }): DynamicModule {
    return {
      module: WebhookSecretsModule,
      imports: [TypeOrmModule.forFeature([WebhookSecret])],
      controllers: options.http ? [WebhookSecretsController] : [],
      providers: [WebhookSecretsService],
      exports: [WebhookSecretsService],
    };
  }
}
