import { setupDatabase } from '../src/database/database-setup';

/** `npm run db:setup`: creates the app role and runs migrations; safe to run again. */
async function main(): Promise<void> {
  const appUrl = process.env.DATABASE_URL;
  const adminUrl = process.env.DATABASE_ADMIN_URL;
  if (!appUrl || !adminUrl) throw new Error('Set DATABASE_URL (app role) and DATABASE_ADMIN_URL (owner role)');
  await setupDatabase(appUrl, adminUrl, (message) => process.stdout.write(`db:setup: ${message}\n`));
}

main().catch((error) => {
  process.stderr.write(`db:setup failed: ${(error as Error).message}\n`);
  process.exit(1);
});
