// Callback URL rules: registration (absolute, https except on loopback, no fragment, no
// wildcard) and matching (exact string equality, RFC 9700 §4.1.3; the only exception is the
// port of a loopback IP literal for native apps, RFC 8252 §7.3).
import type { MessageKey } from '../i18n/index.ts'

export type CallbackProblem = Extract<MessageKey, `callback.${string}`>

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Why a callback URL cannot be registered for this kind of channel (a message key), or null when it can. */
export function callbackUrlProblem(value: string, kind: 'web' | 'spa' | 'native'): CallbackProblem | null {
  if (value.includes('*')) return 'callback.wildcard'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'callback.notAbsolute'
  }
  // Matched byte for byte and shown in the console: nothing invisible or that reorders text.
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Z}]/u.test(value)) return 'callback.invisible'
  if (value.length > 2000) return 'callback.tooLong'
  if (url.hash || value.includes('#')) return 'callback.fragment'
  if (url.username || url.password) return 'callback.credentials'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? null : 'callback.httpOnlyLoopback'
  // Native apps may use a private-use scheme in reverse domain notation (RFC 8252 §7.1).
  if (kind === 'native' && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return null
  return 'callback.https'
}

export function matchCallbackUrl(requested: string, registered: readonly string[], kind: 'web' | 'spa' | 'native'): boolean {
  if (registered.includes(requested)) return true
  if (kind !== 'native') return false
  const withoutPort = loopbackWithoutPort(requested)
  return withoutPort !== null && registered.some((url) => loopbackWithoutPort(url) === withoutPort)
}

function loopbackWithoutPort(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]')) return null
  url.port = ''
  return url.toString()
}

/**
 * Logout URLs (where RP-initiated logout returns) follow the callback URLs' registration rules:
 * the user's browser is sent there just the same.
 */
export const logoutUrlProblem = callbackUrlProblem

/** post_logout_redirect_uri must be one of the channel's logout URLs, byte for byte. */
export function matchLogoutUrl(requested: string, registered: readonly string[]): boolean {
  return registered.includes(requested)
}
