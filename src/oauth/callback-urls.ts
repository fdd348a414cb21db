// Callback URL rules: registration (absolute, https except on loopback, no fragment, no
// wildcard) and matching (exact string equality, RFC 9700 §4.1.3; the only exception is the
// port of a loopback IP literal for native apps, RFC 8252 §7.3).
import type { MessageKey } from '../i18n/index.ts'

export type CallbackProblem = Extract<MessageKey, `callback.${string}`>

/**
 * An http callback's host as written: the literal loopback spellings only. The URL parser turns
 * `127.1`, `0x7f000001`, `2130706433` and `0177.0.0.1` into 127.0.0.1, so the check reads the text
 * itself; a trailing dot, an explicit port 0 or a port with leading zeros are refused too.
 */
const HTTP_LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?::([1-9]\d{0,4}))?(?=[/?]|$)/

function loopbackParts(value: string): { host: string; port: number | undefined; rest: string } | null {
  const match = HTTP_LOOPBACK.exec(value)
  if (!match) return null
  const port = match[2] === undefined ? undefined : Number(match[2])
  if (port !== undefined && port > 65535) return null
  return { host: match[1]!, port, rest: value.slice(match[0].length) }
}

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
  if (url.protocol === 'http:') return loopbackParts(value) ? null : 'callback.httpOnlyLoopback'
  // Native apps may use a private-use scheme in reverse domain notation (RFC 8252 §7.1).
  if (kind === 'native' && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return null
  return 'callback.https'
}

export function matchCallbackUrl(requested: string, registered: readonly string[], kind: 'web' | 'spa' | 'native'): boolean {
  if (registered.includes(requested)) return true
  if (kind !== 'native') return false
  // RFC 8252 §7.3: any port of a loopback IP literal — written `127.0.0.1` or `[::1]` and nothing
  // else (README, Protocol choices); the rest of the URL must be the registered one byte for byte.
  const asked = loopbackParts(requested)
  if (!asked || asked.host === 'localhost') return false
  return registered.some((url) => {
    const known = loopbackParts(url)
    return known !== null && known.host === asked.host && known.rest === asked.rest
  })
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
