import { Client } from 'pg';

/** A direct connection as the owner role (no RLS), for arranging data and inspecting what was stored. */
export async function adminClient(): Promise<Client> {
  const client = new Client({ connectionString: process.env.DATABASE_ADMIN_URL });
  await client.connect();
  return client;
}

/** A direct connection as the app role: row-level security applies. */
export async function appClient(): Promise<Client> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  return client;
}
