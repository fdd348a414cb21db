// The OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414), built once from the issuer.
import { SUPPORTED_CLAIMS } from './claims.ts'
import { SUPPORTED_SCOPES } from './scopes.ts'

export const ENDPOINTS = {
  authorization: '/oauth2/v2.1/authorize',
  token: '/oauth2/v2.1/token',
  userinfo: '/oauth2/v2.1/userinfo',
  jwks: '/oauth2/v2.1/certs',
  revocation: '/oauth2/v2.1/revoke',
  introspection: '/oauth2/v2.1/introspect',
  endSession: '/oauth2/v2.1/logout',
  verify: '/oauth2/v2.1/verify',
  profile: '/v2/profile',
  channelToken: '/oauth2/v3/token',
} as const

export const DISCOVERY_PATH = '/.well-known/openid-configuration'

/** Where a library finds everything else: what a developer pastes into it. */
export function discoveryUrl(issuer: string): string {
  return issuer + DISCOVERY_PATH
}

export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: issuer + ENDPOINTS.authorization,
    token_endpoint: issuer + ENDPOINTS.token,
    userinfo_endpoint: issuer + ENDPOINTS.userinfo,
    jwks_uri: issuer + ENDPOINTS.jwks,
    revocation_endpoint: issuer + ENDPOINTS.revocation,
    introspection_endpoint: issuer + ENDPOINTS.introspection,
    end_session_endpoint: issuer + ENDPOINTS.endSession,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['ES256', 'RS256', 'HS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: SUPPORTED_CLAIMS,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    ui_locales_supported: ['ja', 'en'],
    display_values_supported: ['page', 'popup', 'touch'],
  }
}
