// A channel's secret: shown once, stored as a hash, and kept sealed with the master key only for
// HS256 channels, which sign ID tokens with it. The sealing label lives here alone, so sealing
// (console, command line) and opening (ID tokens) cannot drift apart.
import { randomBytes } from 'node:crypto'
import { open, seal } from '../crypto/secret-box.ts'

export function newChannelSecret(): string {
  return randomBytes(16).toString('hex')
}

const label = (channelId: string) => `channel-secret:${channelId}`

export function sealChannelSecret(masterKey: Buffer, channelId: string, secret: string): string {
  return seal(masterKey, secret, label(channelId))
}

export function openChannelSecret(masterKey: Buffer, channelId: string, sealed: string): string {
  return open(masterKey, sealed, label(channelId))
}
