// /openapi.json: the OpenAPI description of the JSON endpoints, built by @fastify/swagger from
// the routes' schemas. Every described route exists (a renamed route would leave its description
// behind), pages are not in it, and describing a route changes nothing of its behaviour.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { ROUTE_DOCS } from '../../src/http/openapi.ts'

test('/openapi.json describes the protocol and the admin API, and nothing else', async (t) => {
  const app = await build(t)
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(response.statusCode, 200)
  const document = response.json() as {
    openapi: string
    servers: { url: string }[]
    paths: Record<string, Record<string, { tags?: string[]; requestBody?: unknown; responses?: Record<string, unknown> }>>
  }
  assert.equal(document.openapi, '3.1.0')
  assert.equal(document.servers[0]!.url, 'http://localhost:3000')
  const described = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  )
  const expected = Object.keys(ROUTE_DOCS).map((key) => key.replace(/:(\w+)/g, '{$1}'))
  assert.deepEqual(described.filter((route) => !route.startsWith('HEAD ')).sort(), expected.sort())
  assert.ok(document.paths['/oauth2/v2.1/token']!.post!.requestBody, 'the token request body is described')
  assert.ok(document.paths['/oauth2/v2.1/token']!.post!.responses!['200'])
  assert.equal(document.paths['/login'], undefined, 'pages are not part of it')
})

test('a described route keeps its own validation and every claim of its answer', async (t) => {
  const app = await build(t)
  const token = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=authorization_code',
  })
  assert.equal(token.statusCode, 400)
  assert.deepEqual(Object.keys(token.json()).sort(), ['error', 'error_description'])
  assert.equal(token.json().error, 'invalid_request')
  const verify = await app.inject({ method: 'GET', url: '/oauth2/v2.1/verify' })
  assert.equal(verify.statusCode, 400)
  assert.equal(verify.json().error, 'invalid_request')
  const discovery = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
  assert.ok(discovery.json().claims_supported, 'properties the description does not list are still sent')
})
