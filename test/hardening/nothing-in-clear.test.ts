// Issue 13 item 2, README, Security (Nothing personal in clear): after an anonymous authorization with
// a login_hint, a dump of the database (every table, as text) holds no trace of the hint, of the
// state the site sent, or of the channel's secrets; per-provider pairwise secrets are sealed, so a
// dump cannot link a user's `sub` across providers. Providers from before keep their `sub`s.
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { createTestChannel, createTestUser } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'
import { pairwiseSubject } from '../../src/oauth/subject.ts'
import { findChannel } from '../../src/storage/channels.ts'

const database = await testDatabase()
const db = database.db

/** Every row of every table, as text, in hex for bytea: what `pg_dump` would hold. */
async function dump(): Promise<string> {
  const tables = await database.withRawConnection((c) =>
    c.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`),
  )
  const parts: string[] = []
  for (const { tablename } of tables) {
    const rows = await database.withRawConnection((c) => c.query<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t`))
    parts.push(`-- ${tablename}`, ...rows.map((r) => r.row))
  }
  return parts.join('\n')
}

test('a dump after an anonymous authorize with login_hint holds no trace of it, and no pairwise secret in clear', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ items: ['email'] })
  const hint = `victim.${randomUUID()}@example.com`
  const state = `state-${randomUUID()}`
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile email',
    state,
    login_hint: hint,
    nonce: 'nonce-' + randomUUID(),
  })
  const response = await app.inject({ url: `/oauth2/v2.1/authorize?${query}` })
  assert.equal(response.statusCode, 303)
  const page = await app.inject({
    url: String(response.headers.location),
    headers: { cookie: response.cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
  })
  assert.equal(page.statusCode, 200)
  assert.ok(page.body.includes(hint), 'the login page still fills in the hinted email')

  const text = await dump()
  assert.ok(text.includes('-- interactions'))
  assert.equal(
    await db
      .selectFrom('interactions')
      .select('id')
      .where('channel_id', '=', channel.channelId)
      .execute()
      .then((r) => r.length),
    1,
  )
  for (const secret of [hint, hint.split('@')[0]!, state, query.get('nonce')!])
    assert.ok(!text.includes(secret), `the dump holds ${secret}`)
  // Nor a snapshot of the channel: its name, its callback and its secret's hash are not in the interaction.
  const interaction = await database.withRawConnection((c) =>
    c.query<{ row: string }>(`SELECT request::text AS row FROM interactions WHERE channel_id = $1`, [channel.channelId]),
  )
  assert.ok(!interaction[0]!.row.includes('callback'), interaction[0]!.row.slice(0, 200))
  assert.ok(interaction[0]!.row.length < 2000, 'a small row')

  // Pairwise secrets: sealed in every provider row; the clear secret appears nowhere.
  const found = await findChannel(db, channel.channelId)
  const clear = Buffer.from(found!.pairwiseSecret).toString('hex')
  assert.equal(clear.length, 64)
  assert.ok(!text.includes(clear), 'the clear pairwise secret is in the dump')
  const providers = await db.selectFrom('providers').select(['pairwise_secret']).execute()
  for (const provider of providers) assert.equal(Buffer.from(provider.pairwise_secret).subarray(0, 4).toString(), 'psv1')
})

test('a provider whose pairwise secret was stored in clear gets it sealed at start, and keeps its subs', async (t) => {
  const secret = randomBytes(32)
  const providerId = randomUUID()
  const name = `Old provider ${Date.now()}`
  await db.insertInto('providers').values({ id: providerId, name, pairwise_secret: secret }).execute()
  const channel = await createTestChannel({ providerName: name })
  const user = await createTestUser({ profile: null })
  const before = pairwiseSubject(secret, user.userId)
  await build(t)
  const row = await db.selectFrom('providers').select('pairwise_secret').where('id', '=', providerId).executeTakeFirstOrThrow()
  assert.ok(!Buffer.from(row.pairwise_secret).equals(secret), 'sealed')
  assert.equal(pairwiseSubject((await findChannel(db, channel.channelId))!.pairwiseSecret, user.userId), before, 'the same sub as before')
})
