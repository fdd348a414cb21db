// The authorization request (LINE Login v2.1, OIDC Core §3.1.2.1; docs/protocol.md), parsed in two steps:
// first the channel and callback URL — until both are verified no error may be redirected
// (RFC 6749 §4.1.2.1), so their errors become an error page — then everything else, whose errors
// are redirected to the verified callback URL.
import { english, type MessageKey } from '../i18n/index.ts'
import { z } from 'zod'
import type { Channel } from '../storage/channels.ts'
import { matchCallbackUrl } from './callback-urls.ts'
import { OAuthError, PermissionMissing } from './errors.ts'
import { CODE_CHALLENGE } from './pkce.ts'
import { parseScope, unpermittedItems, type Scope } from './scopes.ts'

export type Prompt = 'none' | 'login' | 'consent' | 'select_account'
export type ResponseMode = 'query' | 'form_post'

/** Where and how errors and the code go back once the callback URL is verified. */
export interface ResponseTarget {
  redirectUri: string
  responseMode: ResponseMode
  state: string | undefined
  errorStyle: 'rfc' | 'line'
}

export interface AuthorizationRequest extends ResponseTarget {
  clientId: string
  scopes: Scope[]
  nonce: string | undefined
  prompt: Prompt[]
  maxAge: number | undefined
  codeChallenge: string | undefined
  loginHint: string | undefined
  idTokenHint: string | undefined
  uiLocales: string | undefined
}

/** An error that must not be redirected: shown as a page to the user (unknown channel, bad callback URL). */
/** A request that cannot be answered by redirect: the user gets a page saying why (in their language). */
export class AuthorizationPageError extends Error {
  override name = 'AuthorizationPageError'
  constructor(readonly key: MessageKey) {
    super(english(key))
  }
}

/** state and nonce: opaque strings of up to 2,048 characters (docs/protocol.md). */
const MAX_OPAQUE = 2048

/** Every parameter is text given at most once (RFC 6749 §3.1: "MUST NOT be included more than once"). */
function single(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} was given more than once`)
  return value
}

export function resolveChannelAndCallback(
  params: Record<string, unknown>,
  channel: Channel | undefined,
): ResponseTarget & { channel: Channel } {
  const clientId = params.client_id
  if (Array.isArray(clientId)) throw new AuthorizationPageError('authorize.repeatedClientId')
  if (typeof clientId !== 'string' || clientId === '') throw new AuthorizationPageError('authorize.noClientId')
  if (!channel) throw new AuthorizationPageError('authorize.unknownClient')
  const redirectUri = params.redirect_uri
  if (Array.isArray(redirectUri)) throw new AuthorizationPageError('authorize.repeatedRedirectUri')
  if (typeof redirectUri !== 'string' || redirectUri === '') throw new AuthorizationPageError('authorize.noRedirectUri')
  if (!matchCallbackUrl(redirectUri, channel.callbackUrls, channel.kind)) {
    throw new AuthorizationPageError('authorize.unregisteredRedirectUri')
  }
  const mode = typeof params.response_mode === 'string' && params.response_mode === 'form_post' ? 'form_post' : 'query'
  const state = typeof params.state === 'string' ? params.state : undefined
  return { channel, redirectUri, responseMode: mode, state, errorStyle: channel.errorStyle }
}

const RequestParams = z.object({
  response_type: z.string().optional(),
  response_mode: z.string().optional(),
  scope: z.string().optional(),
  state: z.string().max(MAX_OPAQUE, `state must be at most ${MAX_OPAQUE} characters`).optional(),
  nonce: z.string().max(MAX_OPAQUE, `nonce must be at most ${MAX_OPAQUE} characters`).optional(),
  prompt: z.string().optional(),
  max_age: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  login_hint: z.string().max(320).optional(),
  id_token_hint: z.string().max(8192).optional(),
  ui_locales: z.string().max(256).optional(),
})

const KNOWN = Object.keys(RequestParams.shape)

/** Validates everything after the callback URL. Throws OAuthError, to be redirected. */
export function validateAuthorizationRequest(
  params: Record<string, unknown>,
  target: ResponseTarget & { channel: Channel },
): AuthorizationRequest {
  const { channel } = target
  if (channel.suspendedAt) throw new OAuthError('access_denied', 'the channel is suspended')
  // Request objects are not supported: saying so beats silently ignoring the state and nonce inside.
  if (params.request !== undefined) throw new OAuthError('request_not_supported', 'request objects are not supported')
  if (params.request_uri !== undefined) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported')
  const raw: Record<string, string | undefined> = {}
  for (const name of KNOWN) raw[name] = single(params, name)
  const parsed = RequestParams.safeParse(raw)
  if (!parsed.success) throw new OAuthError('invalid_request', parsed.error.issues[0]!.message)
  const p = parsed.data

  if (p.response_type === undefined || p.response_type === '') throw new OAuthError('invalid_request', 'response_type is required')
  if (p.response_type !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported')
  if (p.response_mode !== undefined && p.response_mode !== 'query' && p.response_mode !== 'form_post') {
    throw new OAuthError('invalid_request', 'response_mode must be query or form_post')
  }

  if (p.code_challenge_method !== undefined && p.code_challenge === undefined)
    throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge')
  if (p.code_challenge !== undefined) {
    if ((p.code_challenge_method ?? 'plain') !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256')
    if (!CODE_CHALLENGE.test(p.code_challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 base64url characters')
  } else if (channel.isPublic || channel.requirePkce) {
    throw new OAuthError('invalid_request', 'code_challenge is required (PKCE with S256)')
  }
  // state is required as LINE requires it, unless PKCE already protects the callback (RFC 9700 §2.1).
  if ((p.state === undefined || p.state === '') && p.code_challenge === undefined)
    throw new OAuthError('invalid_request', "'state' is not specified")

  if (p.scope === undefined || p.scope.trim() === '') throw new OAuthError('invalid_scope', 'scope is required')
  const scopes = parseScope(p.scope)
  const missing = unpermittedItems(scopes, channel.approvedItems)
  if (missing.length > 0) throw new PermissionMissing(missing)

  const prompt = parsePrompt(p.prompt)
  let maxAge: number | undefined
  if (p.max_age !== undefined) {
    if (!/^\d{1,10}$/.test(p.max_age)) throw new OAuthError('invalid_request', 'max_age must be a whole number of seconds')
    maxAge = Number(p.max_age)
  }
  return {
    // The target's fields, not the channel object it carries: the request is stored with the
    // interaction, and a snapshot of the channel (its secrets included) has no business there.
    redirectUri: target.redirectUri,
    responseMode: target.responseMode,
    state: target.state,
    errorStyle: target.errorStyle,
    clientId: channel.id,
    scopes,
    nonce: p.nonce,
    prompt,
    maxAge,
    codeChallenge: p.code_challenge,
    loginHint: p.login_hint,
    idTokenHint: p.id_token_hint,
    uiLocales: p.ui_locales,
  }
}

function parsePrompt(value: string | undefined): Prompt[] {
  if (value === undefined) return []
  const prompts = [...new Set(value.split(' ').filter(Boolean))]
  for (const prompt of prompts) {
    if (!['none', 'login', 'consent', 'select_account'].includes(prompt))
      throw new OAuthError('invalid_request', `unsupported prompt value: ${prompt}`)
  }
  if (prompts.includes('none') && prompts.length > 1)
    throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values')
  return prompts as Prompt[]
}

/** The callback URL with the response parameters added, its own query kept (RFC 6749 §3.1.2). */
export function callbackWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return url.toString()
}
