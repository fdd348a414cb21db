// A channel as the protocol functions receive it, for the unit tests: no database, only the value.
import { sha256 } from '../../src/crypto/tokens.ts'
import type { Channel } from '../../src/storage/channels.ts'

export const WEB_SECRET = 'a-web-channel-secret'

export function webChannel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: '1234567890',
    providerId: '00000000-0000-4000-8000-000000000001',
    name: 'Shop',
    description: '',
    iconUrl: null,
    privacyPolicyUrl: null,
    kind: 'web',
    callbackUrls: ['https://shop.example/callback'],
    logoutUrls: [],
    idTokenAlg: 'ES256',
    status: 'published',
    errorStyle: 'rfc',
    requirePkce: false,
    secretHash: sha256(WEB_SECRET),
    secretEncrypted: null,
    isPublic: false,
    approvedItems: ['email', 'real_name'],
    pairwiseSecret: new Uint8Array(32).fill(7),
    suspendedAt: null,
    ...overrides,
  }
}

export function nativeChannel(overrides: Partial<Channel> = {}): Channel {
  return webChannel({
    id: '2234567890',
    kind: 'native',
    isPublic: true,
    secretHash: null,
    callbackUrls: ['http://127.0.0.1:8080/cb', 'com.example.app:/cb'],
    ...overrides,
  })
}
