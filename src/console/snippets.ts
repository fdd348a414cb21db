// Copy-ready configuration for the libraries developers most often point at plusid, filled in
// with a channel's id, issuer, callback URL and ID token algorithm. The secret is never part of
// a snippet: it is read from an environment variable the developer sets.
import type { Channel } from '../storage/channels.ts'

export interface Snippet {
  /** The library's name as its users know it. */
  library: string
  /** Where the snippet goes (a file name or a short phrase). */
  where: string
  code: string
}

const SCOPE = 'openid profile'

export function channelSnippets(channel: Pick<Channel, 'id' | 'kind' | 'callbackUrls' | 'idTokenAlg'>, issuer: string): Snippet[] {
  const callback = channel.callbackUrls[0] ?? 'https://example.com/callback'
  const q = (value: string) => JSON.stringify(value)
  const insecure = issuer.startsWith('http:')
  const snippets: Snippet[] = []

  // openid-client checks the ID token's algorithm against the client's metadata, RS256 unless told.
  const metadata =
    channel.kind === 'web'
      ? `{ client_secret: process.env.PLUSID_CHANNEL_SECRET${channel.idTokenAlg === 'RS256' ? '' : `, id_token_signed_response_alg: ${q(channel.idTokenAlg)}`} }`
      : channel.idTokenAlg === 'RS256'
        ? 'undefined'
        : `{ id_token_signed_response_alg: ${q(channel.idTokenAlg)} }`
  const options = [channel.kind === 'web' ? '' : 'client.None()', insecure ? '{ execute: [client.allowInsecureRequests] }' : ''].filter(
    Boolean,
  )
  snippets.push({
    library: 'openid-client (Node.js)',
    where: 'server.mjs',
    code: `import * as client from 'openid-client'

const config = await client.discovery(
  new URL(${q(issuer)}),
  ${q(channel.id)},
  ${metadata},${options.length ? `\n  ${channel.kind === 'web' ? 'undefined, ' : ''}${options.join(', ')},` : ''}
)

// Sending the user to plusid:
const codeVerifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: ${q(callback)},
  scope: ${q(SCOPE)},
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
})

// At ${callback} (currentUrl: the full URL plusid redirected to):
const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: codeVerifier, expectedState: state })
console.log(tokens.claims())
`,
  })

  if (channel.kind === 'web') {
    snippets.push({
      library: 'Auth.js (LINE provider)',
      where: 'auth.ts',
      code: `import LINE from '@auth/core/providers/line' // next-auth/providers/line with Next.js

// Register <your site>/api/auth/callback/line (or /auth/callback/line) as a callback URL.
LINE({
  clientId: ${q(channel.id)},
  clientSecret: process.env.PLUSID_CHANNEL_SECRET,
  issuer: ${q(issuer)},
  // The LINE provider expects HS256; this channel signs with ${channel.idTokenAlg}.
  client: { id_token_signed_response_alg: ${q(channel.idTokenAlg)} },
})
`,
    })
    snippets.push({
      library: 'passport-line-auth',
      where: 'passport.js',
      code: `const { Strategy: LineStrategy } = require('passport-line-auth')

passport.use(new LineStrategy({
  channelID: ${q(channel.id)},
  channelSecret: process.env.PLUSID_CHANNEL_SECRET,
  callbackURL: ${q(callback)},
  scope: ['profile', 'openid'],
  authorizationURL: ${q(`${issuer}/oauth2/v2.1/authorize`)},
  tokenURL: ${q(`${issuer}/oauth2/v2.1/token`)},
  profileURL: ${q(`${issuer}/v2/profile`)},
}, (accessToken, refreshToken, params, profile, done) => done(null, profile)))
`,
    })
  } else if (channel.kind === 'spa') {
    snippets.push({
      library: 'oidc-client-ts (browser)',
      where: 'auth.js',
      code: `import { UserManager } from 'oidc-client-ts'

const users = new UserManager({
  authority: ${q(issuer)},
  client_id: ${q(channel.id)},
  redirect_uri: ${q(callback)},
  scope: ${q(SCOPE)},${channel.idTokenAlg === 'RS256' ? '' : `\n  // plusid signs this channel's ID tokens with ${channel.idTokenAlg}.`}
})

await users.signinRedirect() // then, at ${callback}: await users.signinCallback()
`,
    })
  }
  return snippets
}
