// Channel secrets are shown to owners only, once, on a GET after a redirect: reissuing asks for
// confirmation first, a reload of the page that showed the secret shows nothing and issues nothing,
// and switching a channel to HS256 (which signs with the secret) needs an owner's reissue — saving
// the settings never issues a secret, whoever saves them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'

const db = (await testDatabase()).db

const CHANNEL_FIELDS = {
  kind: 'web',
  callback_urls: 'https://rp.example.com/callback',
  logout_urls: 'https://rp.example.com/bye',
  id_token_alg: 'ES256',
  error_style: 'rfc',
  description: '',
  icon_url: '',
  privacy_policy_url: '',
}

/** Whether the id and secret authenticate at the introspection endpoint (client_secret_post). */
async function authenticates(app: FastifyInstance, channelId: string, secret: string): Promise<boolean> {
  const response = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token: 'not-a-token', client_id: channelId, client_secret: secret }).toString(),
  })
  assert.ok(response.statusCode === 200 || response.statusCode === 401, response.body)
  return response.statusCode === 200
}

const secretOf = (response: LightMyRequestResponse) => /class="channel-secret">([0-9a-f]{32})</.exec(response.body)?.[1]
const channelRow = (id: string) => db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

/** An owner with a provider and an ES256 web channel whose secret they kept; a developer member. */
async function setUp(app: FastifyInstance) {
  const owner = new Browser(app)
  await registerUser(owner)
  let response = await owner.submit('/console', '/console/providers', { name: `Secrets ${process.pid} ${Date.now()} ${Math.random()}` })
  const providerPath = String(response.headers.location)
  response = await owner.submit(providerPath, `${providerPath}/channels`, { ...CHANNEL_FIELDS, name: 'Shop' })
  assert.equal(response.statusCode, 303, response.body.slice(0, 400))
  const revealPath = String(response.headers.location)
  const channelId = /\/console\/channels\/(\d{10})\//.exec(revealPath)![1]!
  const secret = secretOf(await owner.get(revealPath))!
  assert.ok(await authenticates(app, channelId, secret))
  const developer = new Browser(app)
  const developerEmail = uniqueEmail('developer')
  await registerUser(developer, { email: developerEmail })
  response = await owner.submit(providerPath, `${providerPath}/members`, { email: developerEmail, role: 'developer' })
  assert.equal(response.statusCode, 303)
  // Membership is an invitation the developer accepts on their own pages.
  await developer.get('/account/invitations')
  const invitation = /action="(\/account\/invitations\/[0-9a-f-]{36})"/.exec(developer.lastPage)
  assert.ok(invitation, 'an invitation is waiting')
  assert.equal((await developer.post(invitation[1]!, { decision: 'accept' })).statusCode, 303)
  return { owner, developer, channelId, secret, channelPath: `/console/channels/${channelId}` }
}

test('reissue: a confirmation page, then the secret once on a GET; a reload shows and issues nothing', async (t) => {
  const app = await build(t)
  const { owner, channelId, secret, channelPath } = await setUp(app)

  const page = await owner.get(channelPath)
  assert.match(
    page.body,
    new RegExp(`<a class="button" href="${channelPath}/secret">`),
    'the channel page links to the confirmation, no one-tap form',
  )
  const confirm = await owner.get(`${channelPath}/secret`)
  assert.equal(confirm.statusCode, 200)
  assert.match(confirm.body, /The current secret stops working at once/)
  assert.ok(await authenticates(app, channelId, secret), 'opening the confirmation changes nothing')

  const response = await owner.post(`${channelPath}/secret`, {})
  assert.equal(response.statusCode, 303)
  assert.doesNotMatch(response.body, /[0-9a-f]{32}/, 'the POST answer carries no secret')
  const revealPath = String(response.headers.location)
  const shown = await owner.get(revealPath)
  assert.equal(shown.statusCode, 200)
  assert.equal(shown.headers['cache-control'], 'no-store')
  const fresh = secretOf(shown)!
  assert.notEqual(fresh, secret)
  assert.ok(await authenticates(app, channelId, fresh))
  assert.ok(!(await authenticates(app, channelId, secret)), 'the old secret stopped working')

  const hashBefore = (await channelRow(channelId)).secret_hash
  const reload = await owner.get(revealPath)
  assert.equal(reload.statusCode, 410)
  assert.equal(secretOf(reload), undefined)
  assert.deepEqual((await channelRow(channelId)).secret_hash, hashBefore, 'a reload issues nothing')
  assert.ok(await authenticates(app, channelId, fresh))
})

test('a developer: no confirmation page, no reissue, no reveal of the owner’s secret', async (t) => {
  const app = await build(t)
  const { owner, developer, channelId, secret, channelPath } = await setUp(app)
  assert.equal((await developer.get(`${channelPath}/secret`)).statusCode, 403)
  await developer.get(channelPath)
  assert.equal((await developer.post(`${channelPath}/secret`, {})).statusCode, 403)
  assert.ok(await authenticates(app, channelId, secret))

  // The owner reissues; the developer opening the owner's page sees nothing, and the owner still can.
  await owner.get(`${channelPath}/secret`)
  const revealPath = String((await owner.post(`${channelPath}/secret`, {})).headers.location)
  const peek = await developer.get(revealPath)
  assert.equal(peek.statusCode, 403)
  assert.equal(secretOf(peek), undefined)
  assert.ok(secretOf(await owner.get(revealPath)))
})

test('HS256: a developer saving it is asked to get an owner; the owner switches through a confirmed reissue', async (t) => {
  const app = await build(t)
  const { owner, developer, channelId, secret, channelPath } = await setUp(app)

  // The developer saves the settings with HS256: refused, nothing issued, the owner's secret works.
  await developer.get(channelPath)
  let response = await developer.post(channelPath, { ...CHANNEL_FIELDS, name: 'Shop', id_token_alg: 'HS256' })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /ask an owner of the provider to reissue the secret with HS256/)
  assert.equal(secretOf(response), undefined)
  let row = await channelRow(channelId)
  assert.equal(row.id_token_alg, 'ES256')
  assert.equal(row.secret_encrypted, null)
  assert.ok(await authenticates(app, channelId, secret))

  // The owner saving the same: refused too, with a link to the confirmed reissue.
  await owner.get(channelPath)
  response = await owner.post(channelPath, { ...CHANNEL_FIELDS, name: 'Shop', id_token_alg: 'HS256' })
  assert.equal(response.statusCode, 400)
  assert.equal(secretOf(response), undefined)
  assert.match(response.body, new RegExp(`href="${channelPath}/secret\\?alg=HS256"`))
  assert.ok(await authenticates(app, channelId, secret), 'saving never breaks the secret')

  const confirm = await owner.get(`${channelPath}/secret?alg=HS256`)
  assert.match(confirm.body, /name="id_token_alg" value="HS256"/)
  assert.match(confirm.body, /signs its ID tokens with HS256/)
  response = await owner.post(`${channelPath}/secret`, { id_token_alg: 'HS256' })
  assert.equal(response.statusCode, 303)
  const fresh = secretOf(await owner.get(String(response.headers.location)))!
  row = await channelRow(channelId)
  assert.equal(row.id_token_alg, 'HS256')
  assert.ok(row.secret_encrypted, 'kept sealed to sign with')
  assert.ok(await authenticates(app, channelId, fresh))

  // Now on HS256 with a sealed secret, anyone may save the settings: nothing is issued.
  await developer.get(channelPath)
  response = await developer.post(channelPath, { ...CHANNEL_FIELDS, name: 'Shop renamed', id_token_alg: 'HS256' })
  assert.equal(response.statusCode, 303)
  assert.ok(await authenticates(app, channelId, fresh))
  // Leaving HS256 drops the sealed copy; coming back needs a reissue again.
  response = await developer.post(channelPath, { ...CHANNEL_FIELDS, name: 'Shop renamed', id_token_alg: 'RS256' })
  assert.equal(response.statusCode, 303)
  assert.equal((await channelRow(channelId)).secret_encrypted, null)
  assert.ok(await authenticates(app, channelId, fresh))
})

test('racing reloads of the page that shows a secret: exactly one of them shows it', async (t) => {
  const app = await build(t)
  const { owner, channelPath } = await setUp(app)
  for (let round = 0; round < 10; round++) {
    await owner.get(`${channelPath}/secret`)
    const revealPath = String((await owner.post(`${channelPath}/secret`, {})).headers.location)
    const pages = await Promise.all(Array.from({ length: 8 }, () => owner.get(revealPath)))
    const shown = pages.filter((page) => secretOf(page) !== undefined)
    assert.equal(shown.length, 1, `round ${round}: ${pages.map((page) => page.statusCode).join(' ')}`)
    assert.deepEqual(pages.map((page) => page.statusCode).sort(), [200, 410, 410, 410, 410, 410, 410, 410])
  }
})
