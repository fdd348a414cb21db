// `npm run example:client -- --client-id ID [--client-secret SECRET] [--issuer URL] [--scope S]
// [--port 8080] [--id-token-alg RS256]`: the sample relying party, listening on
// http://localhost:8080 (its callback: http://localhost:8080/callback). Open it in a browser, log
// in at plusid, and the terminal shows the code, the tokens and the claims it received.
import { parseArgs } from 'node:util'
import { startExampleClient } from './client.ts'

const { values } = parseArgs({
  options: {
    issuer: { type: 'string', default: process.env.PLUSID_ISSUER ?? 'http://localhost:3000' },
    'client-id': { type: 'string', default: process.env.PLUSID_CLIENT_ID },
    'client-secret': { type: 'string', default: process.env.PLUSID_CLIENT_SECRET },
    scope: { type: 'string', default: 'openid profile email' },
    port: { type: 'string', default: '8080' },
    'id-token-alg': { type: 'string', default: 'RS256' },
  },
})

if (!values['client-id']) {
  console.error(
    'Usage: npm run example:client -- --client-id ID [--client-secret SECRET] [--issuer http://localhost:3000] [--scope "openid profile email"] [--port 8080]',
  )
  process.exit(2)
}

const running = await startExampleClient({
  issuer: values.issuer,
  clientId: values['client-id'],
  clientSecret: values['client-secret'],
  scope: values.scope,
  port: Number(values.port),
  idTokenAlg: values['id-token-alg'],
  print: (text) => console.log(text),
})
console.log(
  `The sample client listens at ${running.url} (callback ${running.callbackUrl}).\nOpen ${running.url} in a browser to log in through plusid; Ctrl-C stops it.`,
)
