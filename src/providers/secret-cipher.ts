import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of provider secrets at rest.
 *
 * Keyring (`SECRETS_ENCRYPTION_KEY`):
 * - one key: 64 hex characters, or base64 / base64url of 32 bytes. It gets the
 *   key id `k1`, so rotating later means writing `k2:<new>,k1:<old>` and every
 *   envelope already stored stays readable.
 * - several keys: `kid1:key1,kid2:key2`. The first is current and encrypts;
 *   the others only decrypt, until `rotate` has moved every row off them.
 * Key ids are 1-32 letters, digits, `_` or `-` (no `.`, the envelope separator).
 * A 64-character hex string is read as hex even though it is also valid base64.
 *
 * Envelope: `v1.<kid>.<iv>.<tag>.<ciphertext>`, each binary part base64url.
 * The IV is 12 random bytes per encryption. The authenticated data is the
 * envelope header plus the caller's `aad` (e.g. tenant id and secret id), so
 * an envelope copied to another row, or relabelled with another key id, fails
 * to decrypt.
 *
 * Errors never carry plaintext or key material, only key ids.
 */

const ENVELOPE_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DEFAULT_KEY_ID = 'k1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class SecretCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretCipherError';
  }
}

interface Envelope {
  kid: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export class SecretCipher {
  // Private fields, so logging or inspecting the cipher cannot print the keys.
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #currentKeyId: string;

  private constructor(keys: ReadonlyMap<string, Buffer>, currentKeyId: string) {
    this.#keys = keys;
    this.#currentKeyId = currentKeyId;
  }

  /** Builds the cipher from the `SECRETS_ENCRYPTION_KEY` value; throws on any malformed or wrong-sized key. */
  static fromEnv(value: string): SecretCipher {
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.length === 1 && entries[0] === '') {
      throw new SecretCipherError('SECRETS_ENCRYPTION_KEY is empty.');
    }
    const keys = new Map<string, Buffer>();
    for (const [position, entry] of entries.entries()) {
      const { kid, encodedKey } = splitEntry(entry, position, entries.length);
      if (keys.has(kid)) throw new SecretCipherError(`SECRETS_ENCRYPTION_KEY lists key id "${kid}" twice.`);
      keys.set(kid, decodeKey(kid, encodedKey));
    }
    return new SecretCipher(keys, keys.keys().next().value as string);
  }

  /** The key id new envelopes are written with. */
  get currentKeyId(): string {
    return this.#currentKeyId;
  }

  encrypt(plaintext: object, aad: string): string {
    requireAad(aad);
    const kid = this.#currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#keyFor(kid), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, aad));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [ENVELOPE_VERSION, kid, iv, tag, ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(envelope: string, aad: string): object {
    requireAad(aad);
    const { kid, iv, tag, ciphertext } = parseEnvelope(envelope);
    const decipher = createDecipheriv(ALGORITHM, this.#keyFor(kid), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(kid, aad));
    decipher.setAuthTag(tag);
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      // GCM only says "unable to authenticate"; which input was wrong cannot be known.
      throw new SecretCipherError('Secret could not be decrypted: it was altered, or belongs to another record.');
    }
    return parsePayload(plaintext);
  }

  /** True when the envelope was written with a key other than the current one. */
  needsRotation(envelope: string): boolean {
    return parseEnvelope(envelope).kid !== this.#currentKeyId;
  }

  /**
   * Re-encrypts the envelope under the current key. An envelope already under
   * the current key is returned unchanged, so callers can write only when the
   * result differs.
   */
  rotate(envelope: string, aad: string): string {
    if (!this.needsRotation(envelope)) return envelope;
    return this.encrypt(this.decrypt(envelope, aad), aad);
  }

  #keyFor(kid: string): Buffer {
    const key = this.#keys.get(kid);
    if (!key) throw new SecretCipherError(`Secret was encrypted with key id "${kid}", which is not in the keyring.`);
    return key;
  }
}

function splitEntry(entry: string, position: number, count: number): { kid: string; encodedKey: string } {
  const separator = entry.indexOf(':');
  if (separator === -1) {
    if (count > 1) {
      throw new SecretCipherError(`SECRETS_ENCRYPTION_KEY entry ${position + 1} has no key id; a keyring needs "kid:key" entries.`);
    }
    return { kid: DEFAULT_KEY_ID, encodedKey: entry };
  }
  const kid = entry.slice(0, separator).trim();
  if (!KEY_ID.test(kid)) {
    throw new SecretCipherError(`SECRETS_ENCRYPTION_KEY entry ${position + 1} has an invalid key id; use 1-32 letters, digits, "_" or "-".`);
  }
  return { kid, encodedKey: entry.slice(separator + 1).trim() };
}

function decodeKey(kid: string, encodedKey: string): Buffer {
  let key: Buffer;
  if (HEX_KEY.test(encodedKey)) key = Buffer.from(encodedKey, 'hex');
  else if (BASE64_KEY.test(encodedKey)) key = Buffer.from(encodedKey, 'base64');
  else throw new SecretCipherError(`Encryption key "${kid}" is neither hex nor base64.`);
  if (key.length !== KEY_BYTES) {
    throw new SecretCipherError(
      `Encryption key "${kid}" decodes to ${key.length} bytes; AES-256 needs ${KEY_BYTES} (64 hex characters or 44 base64 characters).`,
    );
  }
  return key;
}

function parseEnvelope(envelope: string): Envelope {
  const parts = envelope.split('.');
  if (parts.length !== 5) throw new SecretCipherError('Malformed secret envelope.');
  const [version, kid, ...binary] = parts;
  if (version !== ENVELOPE_VERSION) throw new SecretCipherError('Unsupported secret envelope version.');
  if (!KEY_ID.test(kid) || !binary.every((part) => BASE64URL.test(part))) {
    throw new SecretCipherError('Malformed secret envelope.');
  }
  const [iv, tag, ciphertext] = binary.map((part) => Buffer.from(part, 'base64url'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretCipherError('Malformed secret envelope.');
  return { kid, iv, tag, ciphertext };
}

function parsePayload(plaintext: Buffer): object {
  let payload: unknown;
  try {
    payload = JSON.parse(plaintext.toString('utf8'));
  } catch {
    // Not rethrown as is: JSON.parse messages quote the input, which is the secret.
    throw new SecretCipherError('Decrypted secret is not valid JSON.');
  }
  if (typeof payload !== 'object' || payload === null) {
    throw new SecretCipherError('Decrypted secret is not a JSON object.');
  }
  return payload;
}

/** Binds the version and key id along with the caller's row identity. */
function associatedData(kid: string, aad: string): Buffer {
  return Buffer.from(`${ENVELOPE_VERSION}.${kid}\n${aad}`, 'utf8');
}

function requireAad(aad: string): void {
  // An empty aad would let an envelope be moved between rows unnoticed.
  if (aad === '') throw new SecretCipherError('Associated data (the owning row identity) is required.');
}
