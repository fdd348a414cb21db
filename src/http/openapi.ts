// The JSON endpoints described for /openapi.json. Each description becomes the Fastify schema of
// its route (an onRoute hook attaches it, so route files stay as they are), and @fastify/swagger
// builds the OpenAPI document from those schemas. The schemas describe only: zod in each handler
// validates (so errors keep their RFC or LINE shape), and replies are serialised as they are —
// Fastify's schema-based serialiser would drop claims the description does not list.
import type { FastifyInstance, FastifySchema } from 'fastify'

type Json = Record<string, unknown>

const str = (description?: string): Json => ({ type: 'string', ...(description ? { description } : {}) })
const int = (description?: string): Json => ({ type: 'integer', ...(description ? { description } : {}) })
const obj = (properties: Record<string, Json>, required: string[] = [], extra: Json = {}): Json => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
})

const FORM = ['application/x-www-form-urlencoded']
const clientCredentials = {
  client_id: str('the channel id (client_secret_post, or alone for a public channel)'),
  client_secret: str('the channel secret (client_secret_post); or use HTTP Basic'),
}
const oauthError = obj({ error: str('an RFC 6749 error code'), error_description: str() }, ['error'])
const lineMessage = obj({ message: str() }, ['message'])
const adminError = obj({ error: str(), message: str() }, ['error', 'message'])
const bearer = obj({ authorization: str('Bearer <access token>') })
const claims = obj(
  {
    sub: str('pairwise subject: U followed by 32 hex digits'),
    name: str(),
    picture: str(),
    email: str(),
    email_verified: { type: 'boolean' },
    family_name: str(),
    given_name: str(),
    middle_name: str(),
    family_name_pronunciation: str(),
    given_name_pronunciation: str(),
    gender: str(),
    birthdate: str('YYYY-MM-DD'),
    phone_number: str('E.164'),
    phone_number_verified: { type: 'boolean' },
    address: obj({ postal_code: str(), region: str(), locality: str(), street_address: str(), country: str('ISO 3166-1 alpha-2') }),
  },
  ['sub'],
  { description: 'the claims of the items the token carries and the user still grants', additionalProperties: true },
)
const page = (item: Json) =>
  obj({ items: { type: 'array', items: item }, next: { type: ['string', 'null'], description: 'cursor of the next page' } }, [
    'items',
    'next',
  ])
const application = obj(
  { id: str(), channel_id: str(), item: str(), purpose: str(), policy_url: str(), state: str() },
  ['id', 'channel_id', 'item', 'purpose', 'state'],
  { additionalProperties: true },
)
const ok = obj({ ok: { type: 'boolean' } })

const oauth = (summary: string, schema: FastifySchema): FastifySchema => ({ tags: ['protocol'], summary, ...schema })
const admin = (summary: string, schema: FastifySchema): FastifySchema => ({
  tags: ['admin'],
  summary,
  security: [{ adminToken: [] }],
  ...schema,
  response: { 401: adminError, 403: adminError, ...(schema.response as Json) },
})

const tokenResponse = obj(
  {
    access_token: str(),
    token_type: str('Bearer'),
    expires_in: int(),
    refresh_token: str(),
    scope: str('the items granted, space-separated'),
    id_token: str('on the code exchange only'),
  },
  ['access_token', 'token_type', 'expires_in'],
)

/** "METHOD path" → the route's description. */
export const ROUTE_DOCS: Record<string, FastifySchema> = {
  'GET /.well-known/openid-configuration': oauth('OpenID Provider metadata (discovery)', {
    response: { 200: obj({ issuer: str() }, ['issuer'], { additionalProperties: true }) },
  }),
  'GET /oauth2/v2.1/certs': oauth('JWKS: the public ES256 and RS256 keys', {
    response: { 200: obj({ keys: { type: 'array', items: { type: 'object', additionalProperties: true } } }, ['keys']) },
  }),
  'POST /oauth2/v2.1/token': oauth('Token endpoint: authorization_code and refresh_token grants', {
    consumes: FORM,
    body: {
      oneOf: [
        obj(
          {
            grant_type: { type: 'string', enum: ['authorization_code'] },
            code: str(),
            redirect_uri: str(),
            code_verifier: str('PKCE (RFC 7636)'),
            ...clientCredentials,
          },
          ['grant_type', 'code', 'redirect_uri'],
        ),
        obj(
          {
            grant_type: { type: 'string', enum: ['refresh_token'] },
            refresh_token: str(),
            scope: str('a narrower scope, optional'),
            ...clientCredentials,
          },
          ['grant_type', 'refresh_token'],
        ),
      ],
    },
    response: { 200: tokenResponse, 400: oauthError, 401: oauthError, 429: oauthError },
  }),
  'GET /oauth2/v2.1/userinfo': oauth('UserInfo (OpenID Connect Core §5.3)', {
    headers: bearer,
    response: { 200: claims, 401: oauthError, 403: oauthError },
  }),
  'POST /oauth2/v2.1/userinfo': oauth('UserInfo, the access token in the body or the header', {
    consumes: FORM,
    body: obj({ access_token: str() }),
    response: { 200: claims, 401: oauthError, 403: oauthError },
  }),
  'GET /v2/profile': oauth('LINE profile', {
    headers: bearer,
    response: {
      200: obj({ userId: str(), displayName: str(), pictureUrl: str(), statusMessage: str() }, ['userId', 'displayName']),
      401: lineMessage,
      403: lineMessage,
    },
  }),
  'GET /oauth2/v2.1/verify': oauth('LINE access token verification', {
    querystring: obj({ access_token: str() }, ['access_token']),
    response: { 200: obj({ scope: str(), client_id: str(), expires_in: int() }, ['scope', 'client_id', 'expires_in']), 400: oauthError },
  }),
  'POST /oauth2/v2.1/verify': oauth('LINE ID token verification', {
    consumes: FORM,
    body: obj({ id_token: str(), client_id: str(), nonce: str(), user_id: str() }, ['id_token', 'client_id']),
    response: {
      200: obj({ iss: str(), sub: str(), aud: str(), exp: int(), iat: int() }, ['iss', 'sub', 'aud', 'exp', 'iat'], {
        additionalProperties: true,
      }),
      400: oauthError,
    },
  }),
  'POST /oauth2/v2.1/revoke': oauth('Token revocation (RFC 7009); LINE sends access_token instead of token', {
    consumes: FORM,
    body: obj({
      token: str(),
      token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] },
      access_token: str(),
      ...clientCredentials,
    }),
    response: { 200: { description: 'revoked, or nothing to revoke', type: 'null' }, 400: oauthError, 401: oauthError },
  }),
  'POST /oauth2/v2.1/introspect': oauth('Token introspection (RFC 7662), for confidential channels', {
    consumes: FORM,
    body: obj({ token: str(), token_type_hint: str(), ...clientCredentials }, ['token']),
    response: {
      200: obj(
        { active: { type: 'boolean' }, scope: str(), client_id: str(), sub: str(), exp: int(), iat: int(), token_type: str() },
        ['active'],
        { additionalProperties: true },
      ),
      400: oauthError,
      401: oauthError,
    },
  }),
  'POST /oauth2/v3/token': oauth('Channel access token (client_credentials), 15 minutes', {
    consumes: FORM,
    body: obj({ grant_type: { type: 'string', enum: ['client_credentials'] }, ...clientCredentials }, ['grant_type']),
    response: {
      200: obj({ access_token: str(), token_type: str(), expires_in: int() }, ['access_token', 'token_type', 'expires_in']),
      400: oauthError,
      401: oauthError,
    },
  }),
  'POST /user/v1/deauthorize': oauth('LINE deauthorize: a channel unlinks a user', {
    headers: obj({ authorization: str('Bearer <channel access token>') }, ['authorization']),
    body: obj({ userAccessToken: str() }, ['userAccessToken']),
    response: { 204: { description: 'unlinked', type: 'null' }, 400: lineMessage, 401: lineMessage },
  }),
  'GET /admin/api/applications': admin('Permission applications, oldest first', {
    querystring: obj({
      state: { type: 'string', enum: ['applied', 'approved', 'rejected', 'suspended'], default: 'applied' },
      limit: int(),
      cursor: str(),
    }),
    response: { 200: page(application), 400: adminError },
  }),
  'GET /admin/api/applications/:id': admin('One application', {
    params: obj({ id: str() }, ['id']),
    response: { 200: application, 404: adminError },
  }),
  'POST /admin/api/applications/:id/approve': admin('Approve an application', {
    params: obj({ id: str() }, ['id']),
    response: { 200: ok, 404: adminError, 409: adminError },
  }),
  'POST /admin/api/applications/:id/reject': admin('Reject an application with a reason', {
    params: obj({ id: str() }, ['id']),
    body: obj({ reason: str() }, ['reason']),
    response: { 200: ok, 400: adminError, 404: adminError, 409: adminError },
  }),
  'POST /admin/api/channels/:channelId/permissions/:item/suspend': admin('Suspend an approved item of a channel', {
    params: obj({ channelId: str(), item: str() }, ['channelId', 'item']),
    body: obj({ reason: str() }),
    response: { 200: ok, 404: adminError },
  }),
  'POST /admin/api/channels/:channelId/suspend': admin('Suspend a channel', {
    params: obj({ channelId: str() }, ['channelId']),
    body: obj({ reason: str() }, ['reason']),
    response: { 200: ok, 400: adminError, 404: adminError },
  }),
  'POST /admin/api/channels/:channelId/unsuspend': admin('Lift a channel’s suspension', {
    params: obj({ channelId: str() }, ['channelId']),
    response: { 200: ok, 404: adminError },
  }),
  'GET /admin/api/audit': admin('The audit log, newest first', {
    querystring: obj({ action: str(), actor: str(), object: str(), limit: int(), cursor: str() }),
    response: {
      200: page(obj({ at: str(), actor: str(), action: str(), object: str() }, [], { additionalProperties: true })),
      400: adminError,
    },
  }),
  'GET /admin/api/users': admin('Accounts, newest first, or the one with this email', {
    querystring: obj({ q: str('an exact email'), cursor: str() }),
    response: {
      200: page(
        obj({ id: str(), email: str(), name: str(), is_admin: { type: 'boolean' }, disabled: { type: 'boolean' }, created_at: str() }),
      ),
    },
  }),
  'GET /admin/api/channels': admin('Channels, newest first, by id, or by name prefix', {
    querystring: obj({ q: str(), cursor: str() }),
    response: { 200: page(obj({ id: str(), name: str(), provider: str(), kind: str(), status: str(), suspended: { type: 'boolean' } })) },
  }),
}

const describeOnly = {
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
}

/** Attaches each route's description as its schema, for routes registered after this call. */
export function describeRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    const docs = methods.map((method) => ROUTE_DOCS[`${method} ${route.url}`]).find(Boolean)
    if (!docs) return
    route.schema = { ...docs, ...route.schema }
    Object.assign(route, describeOnly)
  })
}

/** The OpenAPI document's header; the paths come from the route schemas. */
export function openapiInfo(issuer: string) {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'plusid',
        description: 'The JSON endpoints of plusid: the OpenID Connect protocol shaped like LINE Login v2.1, and the administration API.',
        version: '1',
      },
      servers: [{ url: issuer }],
      tags: [
        { name: 'protocol', description: 'OAuth 2.0, OpenID Connect and LINE endpoints' },
        { name: 'admin', description: 'Administration API (an administrator’s API token)' },
      ],
      components: {
        securitySchemes: { adminToken: { type: 'http' as const, scheme: 'bearer', description: 'from plusid admin token --email E' } },
      },
    },
    hideUntagged: true,
  }
}
