import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A constant-time "is this one of the secrets?" check. Both sides are SHA-256 hashed first, so timingSafeEqual always
 * compares 32 bytes and neither the length nor the content of a secret leaks through timing; every secret is
 * compared on every call, so neither does which one matched.
 */
export function createSecretMatcher(secrets: readonly string[]): (candidate: string) => boolean {
  const find = createSecretFinder(secrets);
  return (candidate) => find(candidate) !== undefined;
}

/**
 * Like {@link createSecretMatcher}, but says which secret matched: by a fingerprint (the first 16 hex digits of its
 * SHA-256), which can name a client in a Redis key or a metric without holding the secret itself.
 */
export function createSecretFinder(secrets: readonly string[]): (candidate: string) => string | undefined {
  const hashes = secrets.map(sha256);
  return (candidate) => {
    const hash = sha256(candidate);
    let matched: Buffer | undefined;
    for (const known of hashes) if (timingSafeEqual(hash, known)) matched = known;
    return matched?.toString('hex', 0, 8);
  };
}
