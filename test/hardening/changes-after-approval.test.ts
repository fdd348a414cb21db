// Issue 13 item 11: a channel's name, icon and callback URLs can change after an administrator
// approved one of its items. The approval stays in force, but each change is shown to
// administrators in the review queue with its old and new value until one of them has looked at
// it, and the audit log records it (and the look).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { approvePermissions } from '../../src/oauth/channels.ts'
import { findChannel } from '../../src/storage/channels.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const db = (await testDatabase()).db

test('changes after approval are queued for administrators with old and new values, audited, and the approval stays', async (t) => {
  const app = await build(t)
  const owner = new Browser(app)
  const ownerAccount = await registerUser(owner)
  const ownerId = (
    await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(ownerAccount.email)).executeTakeFirstOrThrow()
  ).id
  const created = await owner.submit('/console', '/console/providers', { name: `Changes ${Date.now()}` })
  const providerUrl = String(created.headers.location)
  const fields = {
    name: 'Sakura Shop',
    description: '',
    icon_url: 'https://cdn.example.com/a.png',
    privacy_policy_url: '',
    kind: 'web',
    callback_urls: 'https://shop.example.com/cb',
    id_token_alg: 'RS256',
  }
  await owner.submit(providerUrl, `${providerUrl}/channels`, fields)
  const channel = await db
    .selectFrom('channels')
    .select('id')
    .where('provider_id', '=', providerUrl.split('/').pop()!)
    .executeTakeFirstOrThrow()
  const channelUrl = `/console/channels/${channel.id}`

  // Before any approval, changes are the owner's business.
  assert.equal((await owner.submit(channelUrl, channelUrl, { ...fields, name: 'Sakura Store' })).statusCode, 303)
  assert.equal((await db.selectFrom('channel_changes').select('id').where('channel_id', '=', channel.id).execute()).length, 0)

  await approvePermissions(db, channel.id, ['email'])
  const edited = await owner.submit(channelUrl, channelUrl, {
    ...fields,
    name: 'Sakura Bank',
    icon_url: 'https://evil.example.net/bank.png',
    callback_urls: 'https://shop.example.com/cb\nhttps://evil.example.net/cb',
  })
  assert.equal(edited.statusCode, 303)
  // The approval stays in force.
  assert.deepEqual((await findChannel(db, channel.id))!.approvedItems, ['email'])

  const audit = await db
    .selectFrom('audit_log')
    .select(['action', 'actor_id', 'details'])
    .where('object_id', '=', channel.id)
    .where('action', '=', 'channel.changed_after_approval')
    .orderBy('id')
    .execute()
  assert.deepEqual(
    audit.map((a) => (a.details as { field: string }).field),
    ['name', 'icon_url', 'callback_urls'],
  )
  assert.deepEqual(audit[0]!.details, { field: 'name', old: 'Sakura Store', new: 'Sakura Bank' })
  assert.equal(audit[0]!.actor_id, ownerId)

  // The administrators' queue shows each, old and new, in their language.
  const admin = new Browser(app)
  const adminAccount = await registerUser(admin)
  const adminId = (
    await db
      .updateTable('users')
      .set({ is_admin: true })
      .where('email_hmac', '=', keyring().emailHmac(adminAccount.email))
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id
  const queue = await admin.get('/admin')
  assert.equal(queue.statusCode, 200)
  assert.match(queue.body, /Changes to approved channels/)
  assert.match(queue.body, /Name of Sakura Bank changed/)
  assert.match(queue.body, /class="change-old">Sakura Store<br>/)
  assert.match(queue.body, /class="change-new">Sakura Bank<br>/)
  assert.match(queue.body, /class="change-new">https:\/\/evil\.example\.net\/bank\.png<br>/)
  assert.match(queue.body, /class="change-new">https:\/\/shop\.example\.com\/cb<br>https:\/\/evil\.example\.net\/cb<br>/)
  const ja = await app.inject({ url: '/admin', headers: { cookie: admin.cookieHeader(), 'accept-language': 'ja' } })
  assert.match(ja.body, /承認済みチャネルの変更/)

  // The admin API lists them too; looking at one takes it off the queue and is audited.
  const { token } = await createAdminToken(db, adminId)
  const listed = await app.inject({ url: '/admin/api/changes', headers: { authorization: `Bearer ${token}` } })
  const items = (listed.json() as { items: { id: string; field: string; old: unknown; new: unknown }[] }).items.filter((i) =>
    ['name', 'icon_url', 'callback_urls'].includes(i.field),
  )
  assert.equal(items.length, 3)
  assert.deepEqual(items.find((i) => i.field === 'callback_urls')!.new, ['https://shop.example.com/cb', 'https://evil.example.net/cb'])
  const viaApi = await app.inject({
    method: 'POST',
    url: `/admin/api/changes/${items[0]!.id}/reviewed`,
    headers: { authorization: `Bearer ${token}` },
  })
  assert.equal(viaApi.statusCode, 200)
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: `/admin/api/changes/${items[0]!.id}/reviewed`,
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode,
    404,
  )
  await admin.get('/admin')
  const action = /action="(\/admin\/changes\/[0-9a-f-]+\/reviewed)"/.exec(admin.lastPage)![1]!
  assert.equal((await admin.post(action, {})).statusCode, 303)
  const pending = await db
    .selectFrom('channel_changes')
    .select('id')
    .where('channel_id', '=', channel.id)
    .where('reviewed_at', 'is', null)
    .execute()
  assert.equal(pending.length, 1)
  const looks = await db
    .selectFrom('audit_log')
    .select('actor_id')
    .where('object_id', '=', channel.id)
    .where('action', '=', 'channel.change_reviewed')
    .execute()
  assert.equal(looks.length, 2)
  assert.ok(looks.every((l) => l.actor_id === adminId))
  assert.deepEqual((await findChannel(db, channel.id))!.approvedItems, ['email'], 'still approved')
})
