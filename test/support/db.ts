import { Client } from 'pg';

/** A raw connection as the app role (RLS applies) or as the owner (for arranging and inspecting state). */
export async function connect(as: 'app' | 'owner'): Promise<Client> {
  const client = new Client({ connectionString: as === 'app' ? process.env.DATABASE_URL : process.env.DATABASE_OWNER_URL });
  await client.connect();
  return client;
}

/** One statement as the owner, on a connection of its own: for arranging state the API would not let a test set. */
export async function queryAsOwner<R = any>(sql: string, params: unknown[] = []): Promise<R[]> {
  const owner = await connect('owner');
  try {
    return (await owner.query(sql, params)).rows;
  } finally {
    await owner.end();
  }
}
