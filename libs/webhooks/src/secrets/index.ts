export * from './dto/rotated-webhook-secret.dto';
export * from './webhook-secret.entity';
export * from './webhook-secrets.controller';
export * from './webhook-secrets.errors';
export * from './webhook-secrets.module';
export * from './webhook-secrets.service';
