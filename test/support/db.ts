import { Client } from 'pg';

/** A raw connection as the app role (RLS applies) or as the owner (for arranging and inspecting state). */
export async function connect(as: 'app' | 'owner'): Promise<Client> {
  const client = new Client({ connectionString: as === 'app' ? process.env.DATABASE_URL : process.env.DATABASE_OWNER_URL });
  await client.connect();
  return client;
}
