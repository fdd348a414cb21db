// oidc-provider 9, the certified OpenID provider for Node, set up as plusid is in the bench: one
// confidential client, ES256 ID tokens, refresh tokens that are not rotated (as plusid's web
// channels), accounts read from PostgreSQL, every model stored through ./adapter.js, and the
// smallest consent page that works (a form; the bench posts it). `npm run bench -- --peer` starts
// it as its own process and drives the same consent flow as plusid's. Not used by `npm test`.
import http from 'node:http'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'
import { PostgresAdapter, close, connect, counter, query } from './adapter.js'

const env = process.env
const SCOPE = 'openid profile email phone address'
await connect(env.DATABASE_URL)
const users = Number(env.PEER_USERS ?? 64)
for (let i = 0; i < users; i++) {
  const claims = {
    name: `Bench ${i}`,
    email: `bench${i}@example.com`,
    email_verified: false,
    phone_number: '+819012345678',
    address: { postal_code: '1028282', region: '東京都', locality: '千代田区', street_address: '1番3号', country: 'JP' },
  }
  await query('INSERT INTO peer_accounts (id, claims) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [`user${i}`, claims])
}

const keys = await Promise.all(
  ['ES256', 'RS256'].map(async (alg) => ({
    ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)),
    alg,
    use: 'sig',
    kid: alg,
  })),
)
const provider = new Provider(env.ISSUER, {
  adapter: PostgresAdapter,
  clients: [
    {
      client_id: env.CLIENT_ID,
      client_secret: env.CLIENT_SECRET,
      redirect_uris: [env.CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys },
  cookies: { keys: ['bench cookie key, not a secret'] },
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], phone: ['phone_number'], address: ['address'] },
  scopes: ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'],
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  pkce: { required: () => false },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: false,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const { rows } = await query('SELECT claims FROM peer_accounts WHERE id = $1', [id])
    if (!rows[0]) return undefined
    return { accountId: id, claims: async () => ({ sub: id, ...rows[0].claims }) }
  },
})

async function readForm(request) {
  let body = ''
  for await (const chunk of request) body += chunk
  return new URLSearchParams(body)
}

async function interaction(request, response, uid, action) {
  const details = await provider.interactionDetails(request, response)
  if (details.uid !== uid) throw new Error('interaction mismatch')
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(
      `<!doctype html><title>${details.prompt.name}</title><form method="post" action="/interaction/${uid}/${details.prompt.name}"><input name="account"><button>OK</button></form>`,
    )
    return
  }
  const form = await readForm(request)
  if (action === 'login') {
    await provider.interactionFinished(request, response, { login: { accountId: form.get('account') } }, { mergeWithLastSubmission: false })
    return
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id })
  grant.addOIDCScope(SCOPE)
  await provider.interactionFinished(request, response, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true })
}

const callback = provider.callback()
const server = http.createServer((request, response) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|consent))?/.exec(request.url)
  if (request.url === '/__bench/queries') return response.end(String(counter.queries))
  if (!match) return callback(request, response)
  interaction(request, response, match[1], match[2]).catch((error) => {
    response.writeHead(500)
    response.end(String(error))
  })
})
server.listen(Number(env.PORT), '127.0.0.1', () => console.log(`peer is ready at ${env.ISSUER}`))
process.on('SIGTERM', () => server.close(() => close().then(() => process.exit(0))))
