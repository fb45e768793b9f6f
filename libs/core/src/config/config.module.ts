import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig, CONFIG_NAMESPACE } from './app-config';
import { SecretBox } from '../security/secret-box';
import { parseConfig } from './config';

@Global()
@Module({
  imports: [
    NestConfigModule.forRoot({
      cache: true,
      envFilePath: ['.env'],
      validate: (raw) => ({ [CONFIG_NAMESPACE]: parseConfig(raw as Record<string, string | undefined>) }),
    }),
  ],
  providers: [
    {
      provide: AppConfig,
      inject: [ConfigService],
      useFactory: (configService: ConfigService) => configService.get(CONFIG_NAMESPACE),
    },
    // Global beside the key it uses: any module seals and opens secrets at rest without importing anything.
    SecretBox,
  ],
  exports: [AppConfig, SecretBox],
})
export class ConfigModule {}
