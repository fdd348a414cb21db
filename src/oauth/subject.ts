// Pairwise subject identifiers (docs/profile-claims.md): `U` + 32 lowercase hex, derived from the user's
// id with the provider's secret, so channels of one provider see the same sub and two providers
// cannot correlate a user. Stable for the user's life; no table needed.
import { createHmac } from 'node:crypto'

export function pairwiseSubject(providerSecret: Uint8Array, userId: string): string {
  return 'U' + createHmac('sha256', providerSecret).update(userId).digest('hex').slice(0, 32)
}
