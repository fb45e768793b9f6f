/**
 * The DataSource the TypeORM CLI uses (`npx typeorm -d dist/ormconfig.js migration:show`). It connects as the owner
 * (DATABASE_OWNER_URL): only migrations run with it. The app itself connects as the app role (DATABASE_URL).
 */
import { createOwnerDataSource } from './libs/core/src/database/data-source';

if (!process.env.DATABASE_OWNER_URL) {
  try {
    process.loadEnvFile('.env');
  } catch {
    // no .env: the variables must come from the environment
  }
}
if (!process.env.DATABASE_OWNER_URL) throw new Error('DATABASE_OWNER_URL is required (see .env.example)');

export default createOwnerDataSource(process.env.DATABASE_OWNER_URL);
