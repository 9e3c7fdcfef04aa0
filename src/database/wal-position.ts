/**
 * PostgreSQL WAL positions (pg_lsn, written `16/B374D848`) as numbers, to
 * compare a commit's position with what a standby has replayed, and as
 * fixed-width hex text, which compares the same way as a string (Redis keeps it so).
 */
export type WalPosition = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): WalPosition {
  const match = LSN_TEXT.exec(text);
  if (!match) throw new Error(`Not a WAL position: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** 16 hex digits: string order is numeric order. */
export function lsnKeyText(position: WalPosition): string {
  return position.toString(16).padStart(16, '0');
}

export function lsnFromKeyText(text: string): WalPosition | null {
  return /^[0-9a-f]{16}$/.test(text) ? BigInt(`0x${text}`) : null;
}

export function formatLsn(position: WalPosition): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}
