import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

/** The owner's DataSource: it runs migrations and nothing else. The app never connects as the owner. */
export function createOwnerDataSource(ownerUrl: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url: ownerUrl,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    logging: ['error'],
  });
}
