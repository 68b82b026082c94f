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
  const hashes = secrets.map(sha256);
  return (candidate) => {
    const hash = sha256(candidate);
    let matched = false;
    for (const known of hashes) matched = timingSafeEqual(hash, known) || matched;
    return matched;
  };
}
