// The sample relying party of "Trying the protocol": the smallest app that logs a user in through
// plusid with the authorization-code flow (PKCE, state, nonce) using openid-client and discovery,
// and prints what it received — the code, the token response, the ID token's claims and userinfo.
// `npm run example:client` runs it (main.ts); tests start it with startExampleClient().
import http from 'node:http'
import { once } from 'node:events'
import * as client from 'openid-client'

export interface ExampleClientOptions {
  issuer: string
  clientId: string
  /** The channel secret (web channels); leave it out for a spa or native channel. */
  clientSecret?: string | undefined
  scope: string
  port: number
  /** The ID token algorithm of the channel (RS256 unless the channel chose another). */
  idTokenAlg: string
  print: (text: string) => void
}

export interface Received {
  code: string
  tokens: Record<string, unknown>
  idTokenClaims: Record<string, unknown> | undefined
  userinfo: Record<string, unknown>
}

export interface RunningExampleClient {
  url: string
  callbackUrl: string
  /** Resolves with what the first completed login received. */
  firstLogin: Promise<Received>
  close: () => Promise<void>
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`

export async function startExampleClient(options: ExampleClientOptions): Promise<RunningExampleClient> {
  const url = `http://localhost:${options.port}`
  const callbackUrl = `${url}/callback`
  const metadata: Partial<client.ClientMetadata> = {
    id_token_signed_response_alg: options.idTokenAlg,
    ...(options.clientSecret ? { client_secret: options.clientSecret } : {}),
  }
  const auth = options.clientSecret ? client.ClientSecretBasic(options.clientSecret) : client.None()
  // plusid on http://localhost is fine for trying; openid-client insists on https unless told.
  const insecure = options.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined
  const config = await client.discovery(new URL(options.issuer), options.clientId, metadata, auth, insecure)

  // One login at a time is all a sample needs: the values the callback must see again.
  const pending = new Map<string, { codeVerifier: string; nonce: string }>()
  let resolveFirst: (received: Received) => void
  const firstLogin = new Promise<Received>((resolve) => (resolveFirst = resolve))

  const server = http.createServer(async (request, response) => {
    const here = new URL(request.url ?? '/', url)
    try {
      if (here.pathname === '/') {
        const codeVerifier = client.randomPKCECodeVerifier()
        const state = client.randomState()
        const nonce = client.randomNonce()
        pending.set(state, { codeVerifier, nonce })
        const authorizationUrl = client.buildAuthorizationUrl(config, {
          redirect_uri: callbackUrl,
          scope: options.scope,
          state,
          nonce,
          code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
        })
        options.print(`→ sending the browser to ${authorizationUrl.href}`)
        return response.writeHead(302, { location: authorizationUrl.href }).end()
      }
      if (here.pathname === '/callback') {
        const state = here.searchParams.get('state') ?? ''
        const login = pending.get(state)
        if (here.searchParams.has('error') || !login) {
          const error = `${here.searchParams.get('error') ?? 'unknown state'}: ${here.searchParams.get('error_description') ?? 'start again at /'}`
          options.print(`✗ ${error}`)
          return response
            .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
            .end(page('Login failed', `<p>${escapeHtml(error)}</p><p><a href="/">Try again</a></p>`))
        }
        pending.delete(state)
        const code = here.searchParams.get('code')!
        const tokens = await client.authorizationCodeGrant(config, here, {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: state,
          expectedNonce: login.nonce,
        })
        const idTokenClaims = tokens.claims() as Record<string, unknown> | undefined
        const userinfo = (await client.fetchUserInfo(
          config,
          tokens.access_token,
          String(idTokenClaims?.sub ?? client.skipSubjectCheck),
        )) as Record<string, unknown>
        const received: Received = { code, tokens: { ...tokens }, idTokenClaims, userinfo }
        options.print(
          [
            '← the code:',
            code,
            '',
            'the token response:',
            JSON.stringify(received.tokens, null, 2),
            '',
            'the ID token’s claims:',
            JSON.stringify(idTokenClaims, null, 2),
            '',
            'userinfo:',
            JSON.stringify(userinfo, null, 2),
            '',
          ].join('\n'),
        )
        resolveFirst(received)
        const body = ['ID token claims', 'Userinfo']
          .map((title, i) => `<h2>${title}</h2><pre>${escapeHtml(JSON.stringify(i === 0 ? idTokenClaims : userinfo, null, 2))}</pre>`)
          .join('')
        return response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            page('Logged in through plusid', `${body}<p>The token response is printed in the terminal. <a href="/">Log in again</a></p>`),
          )
      }
      response.writeHead(404).end()
    } catch (error) {
      options.print(`✗ ${(error as Error).message}`)
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`The login failed: ${(error as Error).message}`)
    }
  })
  server.listen(options.port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url,
    callbackUrl,
    firstLogin,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
