import type { EntityManager } from 'typeorm';

/**
 * Runs `read` with the given settings transaction-local (SET LOCAL), and puts
 * them back once it has answered. A failure ends the transaction, and the
 * settings with it. Names and values come from constants in the code, never
 * from input.
 */
export async function withLocalSettings<T>(manager: EntityManager, settings: Readonly<Record<string, string>>, read: () => Promise<T>): Promise<T> {
  const names = Object.keys(settings);
  await manager.query(names.map((name) => `SET LOCAL ${name} = ${settings[name]}`).join('; '));
  const result = await read();
  await manager.query(names.map((name) => `RESET ${name}`).join('; '));
  return result;
}
