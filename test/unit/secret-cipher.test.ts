import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SecretCipher, SecretCipherError } from '../../src/providers/secret-cipher';

const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('hex');
const AAD = 'tenant:7c9e6679-7425-40de-944b-e07fc1f90ae7/secret:0d8e3a1c-5b7f-4a2e-9c6d-1f2a3b4c5d6e';
const OTHER_AAD = 'tenant:7c9e6679-7425-40de-944b-e07fc1f90ae7/secret:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const PLAINTEXT = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

const ENVELOPE = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]+)$/;

/** Replaces one binary part of an envelope (2 iv, 3 tag, 4 ciphertext) with a copy that has one bit flipped. */
function flipBit(envelope: string, partIndex: number): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[partIndex], 'base64url');
  bytes[0] ^= 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

function cipherError(action: () => unknown): SecretCipherError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof SecretCipherError, `expected a SecretCipherError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to throw');
}

describe('SecretCipher.fromEnv', () => {
  it('names a single key without a key id "k1"', () => {
    assert.equal(SecretCipher.fromEnv(OLD_KEY).currentKeyId, 'k1');
    assert.equal(SecretCipher.fromEnv(NEW_KEY).currentKeyId, 'k1');
  });

  it('accepts hex, base64 and unpadded base64url keys', () => {
    const raw = randomBytes(32);
    for (const encoded of [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')]) {
      const envelope = SecretCipher.fromEnv(encoded).encrypt(PLAINTEXT, AAD);
      assert.deepEqual(SecretCipher.fromEnv(raw.toString('hex')).decrypt(envelope, AAD), PLAINTEXT);
    }
  });

  it('takes the first keyring entry as the current key and tolerates spaces', () => {
    assert.equal(SecretCipher.fromEnv(` new : ${NEW_KEY} , old:${OLD_KEY} `).currentKeyId, 'new');
  });

  it('refuses keys that are not 32 bytes, naming the key id but not the key', () => {
    const short = randomBytes(16).toString('base64');
    const long = randomBytes(33).toString('base64');
    const shortHex = randomBytes(31).toString('hex');
    for (const [value, kid, key] of [
      [short, 'k1', short],
      [`current:${NEW_KEY},legacy:${long}`, 'legacy', long],
      [`k2:${shortHex}`, 'k2', shortHex],
    ]) {
      const error = cipherError(() => SecretCipher.fromEnv(value));
      assert.match(error.message, new RegExp(`"${kid}" decodes to \\d+ bytes; AES-256 needs 32`));
      assert.ok(!error.message.includes(key));
    }
  });

  it('refuses malformed configuration', () => {
    const cases = [
      '', // empty
      '   ',
      'not a key!', // neither hex nor base64
      `k1:${OLD_KEY},${NEW_KEY}`, // a keyring entry without a key id
      `k1:${OLD_KEY},k1:${NEW_KEY}`, // duplicate key id
      `bad.kid:${OLD_KEY}`, // a dot would break the envelope format
      `:${OLD_KEY}`, // empty key id
      `k1:`, // empty key
    ];
    for (const value of cases) {
      const error = cipherError(() => SecretCipher.fromEnv(value));
      assert.ok(!error.message.includes(OLD_KEY) && !error.message.includes(NEW_KEY), error.message);
    }
  });

  it('does not reveal key material when inspected or serialised', () => {
    const cipher = SecretCipher.fromEnv(`new:${NEW_KEY},old:${OLD_KEY}`);
    const shown = `${inspect(cipher, { depth: 10, showHidden: true })}${JSON.stringify(cipher)}`;
    assert.ok(!shown.includes('Buffer'), shown);
    assert.ok(!shown.includes(NEW_KEY.slice(0, 8)), shown);
  });
});

describe('SecretCipher encrypt/decrypt', () => {
  const cipher = SecretCipher.fromEnv(OLD_KEY);

  it('round-trips an object', () => {
    const envelope = cipher.encrypt(PLAINTEXT, AAD);
    assert.match(envelope, ENVELOPE);
    assert.equal(ENVELOPE.exec(envelope)?.[1], 'k1');
    assert.deepEqual(cipher.decrypt(envelope, AAD), PLAINTEXT);
  });

  it('round-trips nested values and unicode', () => {
    const secret = { service_account_key: { private_key: '-----BEGIN-----\nabc\n', nested: [1, true, null] }, note: 'clé 🔑' };
    assert.deepEqual(cipher.decrypt(cipher.encrypt(secret, AAD), AAD), secret);
  });

  it('uses a fresh IV each time', () => {
    const first = cipher.encrypt(PLAINTEXT, AAD);
    const second = cipher.encrypt(PLAINTEXT, AAD);
    assert.notEqual(first, second);
    assert.notEqual(first.split('.')[2], second.split('.')[2]);
  });

  it('keeps no plaintext in the envelope', () => {
    const envelope = cipher.encrypt(PLAINTEXT, AAD);
    const json = JSON.stringify(PLAINTEXT);
    for (const value of [...Object.values(PLAINTEXT), json]) {
      for (const encoding of ['utf8', 'base64', 'base64url', 'hex'] as const) {
        const shown = encoding === 'utf8' ? value : Buffer.from(value).toString(encoding).slice(0, 16);
        assert.ok(!envelope.includes(shown), `envelope holds ${encoding} plaintext`);
      }
    }
    assert.ok(!envelope.includes('aws_access_key_id'));
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const envelope = cipher.encrypt(PLAINTEXT, AAD);
    for (const part of [2, 3, 4]) {
      const error = cipherError(() => cipher.decrypt(flipBit(envelope, part), AAD));
      assert.match(error.message, /could not be decrypted/);
    }
  });

  it('refuses a truncated ciphertext', () => {
    const parts = cipher.encrypt(PLAINTEXT, AAD).split('.');
    parts[4] = parts[4].slice(0, -4);
    cipherError(() => cipher.decrypt(parts.join('.'), AAD));
  });

  it('refuses the envelope under another row identity', () => {
    const envelope = cipher.encrypt(PLAINTEXT, AAD);
    assert.match(cipherError(() => cipher.decrypt(envelope, OTHER_AAD)).message, /could not be decrypted/);
    cipherError(() => cipher.decrypt(envelope, `${AAD} `));
  });

  it('requires associated data', () => {
    cipherError(() => cipher.encrypt(PLAINTEXT, ''));
    cipherError(() => cipher.decrypt(cipher.encrypt(PLAINTEXT, AAD), ''));
  });

  it('refuses malformed envelopes', () => {
    const valid = cipher.encrypt(PLAINTEXT, AAD);
    const [, kid, iv, tag, body] = valid.split('.');
    for (const envelope of [
      '',
      'garbage',
      `v2.${kid}.${iv}.${tag}.${body}`,
      `v1.${kid}.${iv}.${tag}`,
      `v1.${kid}.${iv}.${tag}.${body}.extra`,
      `v1.${kid}.${iv.slice(0, 8)}.${tag}.${body}`,
      `v1.${kid}.${iv}.${tag.slice(0, 10)}.${body}`,
      `v1.${kid}.${iv}.${tag}.`,
      `v1.${kid}.${iv}.${tag}.${body}=`,
    ]) {
      cipherError(() => cipher.decrypt(envelope, AAD));
    }
  });

  it('keeps plaintext out of decryption errors', () => {
    const envelope = cipher.encrypt(PLAINTEXT, AAD);
    const error = cipherError(() => cipher.decrypt(envelope, OTHER_AAD));
    assert.ok(!error.message.includes(PLAINTEXT.aws_secret_access_key));
    assert.ok(!(error.stack ?? '').includes(PLAINTEXT.aws_secret_access_key));
  });
});

describe('SecretCipher key rotation', () => {
  const before = SecretCipher.fromEnv(`old:${OLD_KEY}`);
  const after = SecretCipher.fromEnv(`new:${NEW_KEY},old:${OLD_KEY}`);

  it('decrypts envelopes written with an older key still in the keyring', () => {
    const envelope = before.encrypt(PLAINTEXT, AAD);
    assert.deepEqual(after.decrypt(envelope, AAD), PLAINTEXT);
  });

  it('encrypts with the current key only', () => {
    assert.equal(ENVELOPE.exec(after.encrypt(PLAINTEXT, AAD))?.[1], 'new');
  });

  it('reports which envelopes need rotation', () => {
    assert.equal(after.needsRotation(before.encrypt(PLAINTEXT, AAD)), true);
    assert.equal(after.needsRotation(after.encrypt(PLAINTEXT, AAD)), false);
    assert.equal(before.needsRotation(before.encrypt(PLAINTEXT, AAD)), false);
  });

  it('re-encrypts under the current key id and keeps the plaintext', () => {
    const original = before.encrypt(PLAINTEXT, AAD);
    const rotated = after.rotate(original, AAD);
    assert.equal(ENVELOPE.exec(rotated)?.[1], 'new');
    assert.equal(after.needsRotation(rotated), false);
    assert.deepEqual(after.decrypt(rotated, AAD), PLAINTEXT);
    assert.deepEqual(SecretCipher.fromEnv(`new:${NEW_KEY}`).decrypt(rotated, AAD), PLAINTEXT);
  });

  it('returns an envelope already under the current key unchanged', () => {
    const current = after.encrypt(PLAINTEXT, AAD);
    assert.equal(after.rotate(current, AAD), current);
  });

  it('refuses to rotate an envelope bound to another row', () => {
    const original = before.encrypt(PLAINTEXT, AAD);
    cipherError(() => after.rotate(original, OTHER_AAD));
  });

  it('lets a single unnamed key be rotated out as "k1"', () => {
    const envelope = SecretCipher.fromEnv(OLD_KEY).encrypt(PLAINTEXT, AAD);
    const rotatedRing = SecretCipher.fromEnv(`k2:${NEW_KEY},k1:${OLD_KEY}`);
    assert.deepEqual(rotatedRing.decrypt(envelope, AAD), PLAINTEXT);
    assert.equal(ENVELOPE.exec(rotatedRing.rotate(envelope, AAD))?.[1], 'k2');
  });

  it('refuses an envelope whose key id is not in the keyring', () => {
    const rotated = after.rotate(before.encrypt(PLAINTEXT, AAD), AAD);
    const error = cipherError(() => before.decrypt(rotated, AAD));
    assert.match(error.message, /key id "new", which is not in the keyring/);
    cipherError(() => before.rotate(rotated, AAD));
  });

  it('refuses an envelope relabelled with another key id of the keyring', () => {
    const relabelled = before.encrypt(PLAINTEXT, AAD).replace(/^v1\.old\./, 'v1.new.');
    assert.match(cipherError(() => after.decrypt(relabelled, AAD)).message, /could not be decrypted/);
  });

  it('refuses an envelope when the key behind its id has changed', () => {
    const envelope = before.encrypt(PLAINTEXT, AAD);
    const wrongKey = SecretCipher.fromEnv(`old:${NEW_KEY}`);
    assert.match(cipherError(() => wrongKey.decrypt(envelope, AAD)).message, /could not be decrypted/);
  });
});
