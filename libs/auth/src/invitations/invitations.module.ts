import { DynamicModule, Module } from '@nestjs/common';
import { UsersModule } from '@tenantry/users';
import { AuthModule } from '../auth.module';
import { InvitationDelivery } from './invitation-delivery';
import { InvitationOutbox } from './invitation-outbox';
import { InvitationAcceptController, InvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';
import { InvitationsWorker } from './invitations.worker';

/**
 * Invitations: the API side (`http`: invite, accept) and the worker side (`worker`: delivery and relay). Both need
 * the queues and clients of IntegrationsModule.forRoot, imported once by the app or the worker.
 */
@Module({})
export class InvitationsModule {
  static forRoot(options: { http: boolean; worker: boolean }): DynamicModule {
    return {
      module: InvitationsModule,
      imports: [UsersModule, ...(options.http ? [AuthModule] : [])],
      controllers: options.http ? [InvitationsController, InvitationAcceptController] : [],
      providers: [
        InvitationOutbox,
        ...(options.http ? [InvitationsService] : []),
        ...(options.worker ? [InvitationDelivery, InvitationsWorker] : []),
      ],
      exports: [InvitationOutbox],
    };
  }
}
