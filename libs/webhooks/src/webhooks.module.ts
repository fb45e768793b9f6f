import { DynamicModule, Module } from '@nestjs/common';
import { WebhookSecretsModule } from './secrets';
import { WebhookEventsService } from './webhook-events.service';
import { WebhookIngestService } from './webhook-ingest.service';
import { WebhookIngestMetrics, WebhookProcessingMetrics } from './webhook-metrics';
import { WebhookProcessor } from './webhook-processor';
import { WebhookEventsController, WebhookIngestController } from './webhooks.controller';
import { WebhooksWorker } from './webhooks.worker';

/**
 * Inbound webhooks: ingestion and the admin view of the inbox in the API (`http`), processing and the outbox relay in
 * the worker (`worker`). Queues, clients and the reconciler come from the (global) integrations module.
 */
@Module({})
export class WebhooksModule {
  static forRoot(options: { http: boolean; worker: boolean }): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [WebhookSecretsModule.forRoot({ http: options.http })],
      controllers: options.http ? [WebhookIngestController, WebhookEventsController] : [],
      providers: [
        WebhookIngestService,
        WebhookEventsService,
        WebhookProcessor,
        ...(options.http ? [WebhookIngestMetrics] : []),
        ...(options.worker ? [WebhooksWorker, WebhookProcessingMetrics] : []),
      ],
      exports: [WebhookEventsService, WebhookProcessor],
    };
  }
}
