// Issue 13 item 7, README, Security: adding a member or a tester is an invitation the invitee accepts.
// The inviter gets the same answer whether the email has an account or not; nobody — an
// administrator included — becomes a member (and so loses the right to review the provider's
// applications) or a tester without accepting; the invitee sees, accepts and declines invitations
// on their own pages; an invitation is answered once, even by two requests at the same moment.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { onServer, testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { answerInvitation, invite } from '../../src/console/invitations.ts'

const db = (await testDatabase()).db

async function person(app: FastifyInstance, headers: Record<string, string> = {}) {
  const browser = new Browser(app, headers)
  const account = await registerUser(browser)
  const user = await db
    .selectFrom('users')
    .select('id')
    .where('email_hmac', '=', keyring().emailHmac(account.email))
    .executeTakeFirstOrThrow()
  return { browser, email: account.email, userId: user.id }
}

async function providerOf(owner: Awaited<ReturnType<typeof person>>): Promise<string> {
  const created = await owner.browser.submit('/console', '/console/providers', {
    name: `Invitations ${Date.now()}${Math.floor(Math.random() * 1e6)}`,
  })
  return String(created.headers.location).split('/').pop()!
}

const isMember = async (providerId: string, userId: string) =>
  (
    await db
      .selectFrom('provider_members')
      .select('role')
      .where('provider_id', '=', providerId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
  )?.role
const pendingFor = async (userId: string) =>
  db.selectFrom('invitations').select(['id', 'kind', 'role']).where('invitee_id', '=', userId).execute()
/** The page with what changes from one request to the next (the CSRF token) taken out. */
const stable = (body: string) => body.replace(/name="csrf_token" value="[^"]+"/g, '')

test('inviting a member: the same answer for an unknown email; nothing until the invitee accepts', async (t) => {
  const app = await build(t)
  const owner = await person(app)
  const providerId = await providerOf(owner)
  const admin = await person(app)
  await db.updateTable('users').set({ is_admin: true }).where('id', '=', admin.userId).execute()

  const providerUrl = `/console/providers/${providerId}`
  const known = await owner.browser.submit(providerUrl, `${providerUrl}/members`, { email: admin.email, role: 'owner' })
  const unknown = await owner.browser.submit(providerUrl, `${providerUrl}/members`, { email: uniqueEmail('nobody'), role: 'owner' })
  assert.equal(known.statusCode, 303)
  assert.equal(unknown.statusCode, 303)
  assert.equal(known.headers.location, unknown.headers.location)
  const afterKnown = stable((await owner.browser.get(String(known.headers.location))).body)
  const afterUnknown = stable((await owner.browser.get(String(unknown.headers.location))).body)
  assert.equal(afterKnown, afterUnknown, 'the pages after both invitations are the same')
  assert.match(afterKnown, /If this email belongs to a plusid account, its owner was invited/)
  assert.equal(await isMember(providerId, admin.userId), undefined, 'the administrator is not a member without accepting')

  // The invitee sees it on their own pages, and declines: still not a member, invitation gone.
  const page = await admin.browser.get('/account/invitations')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Join the provider Invitations/)
  assert.match(page.body, /<dd>owner<\/dd>/)
  const [invitation] = await pendingFor(admin.userId)
  assert.ok(invitation)
  const declined = await admin.browser.post(`/account/invitations/${invitation.id}`, { decision: 'decline' })
  assert.equal(declined.statusCode, 303)
  assert.equal(await isMember(providerId, admin.userId), undefined)
  assert.deepEqual(await pendingFor(admin.userId), [])

  // Invited again, and accepts: a member with the role the owner chose.
  await owner.browser.submit(providerUrl, `${providerUrl}/members`, { email: admin.email, role: 'developer' })
  const [again] = await pendingFor(admin.userId)
  await admin.browser.get('/account/invitations')
  const accepted = await admin.browser.post(`/account/invitations/${again!.id}`, { decision: 'accept' })
  assert.equal(accepted.statusCode, 303)
  assert.equal(await isMember(providerId, admin.userId), 'developer')
  const audit = await db
    .selectFrom('audit_log')
    .select('action')
    .where('object_id', '=', providerId)
    .where('action', 'like', 'member.%')
    .orderBy('id')
    .execute()
  assert.deepEqual(
    audit.map((a) => a.action),
    ['member.invited', 'member.invited', 'member.invitation_declined', 'member.invited', 'member.invitation_accepted'],
  )
})

test('inviting a tester: the developing channel stays closed to them until they accept', async (t) => {
  const app = await build(t)
  const owner = await person(app)
  const providerId = await providerOf(owner)
  const fields = {
    name: 'Tested shop',
    description: '',
    icon_url: '',
    privacy_policy_url: '',
    kind: 'web',
    callback_urls: 'https://rp.example.com/cb',
    id_token_alg: 'RS256',
  }
  await owner.browser.submit(`/console/providers/${providerId}`, `/console/providers/${providerId}/channels`, fields)
  const channel = await db.selectFrom('channels').select('id').where('provider_id', '=', providerId).executeTakeFirstOrThrow()
  const tester = await person(app, { 'accept-language': 'ja' })
  const channelUrl = `/console/channels/${channel.id}`
  const known = await owner.browser.submit(channelUrl, `${channelUrl}/testers`, { email: tester.email })
  const unknown = await owner.browser.submit(channelUrl, `${channelUrl}/testers`, { email: uniqueEmail('nobody') })
  assert.equal(known.headers.location, unknown.headers.location)
  assert.equal(
    stable((await owner.browser.get(String(known.headers.location))).body),
    stable((await owner.browser.get(String(unknown.headers.location))).body),
  )
  const testers = () => db.selectFrom('channel_testers').select('user_id').where('channel_id', '=', channel.id).execute()
  assert.deepEqual(await testers(), [])
  const page = await tester.browser.get('/account/invitations')
  assert.match(page.body, /チャネル「Tested shop」をテスト/)
  const [invitation] = await pendingFor(tester.userId)
  // Somebody else cannot answer it.
  const stranger = await person(app)
  await stranger.browser.get('/account/invitations')
  assert.equal((await stranger.browser.post(`/account/invitations/${invitation!.id}`, { decision: 'accept' })).statusCode, 404)
  await tester.browser.get('/account/invitations')
  assert.equal((await tester.browser.post(`/account/invitations/${invitation!.id}`, { decision: 'accept' })).statusCode, 303)
  assert.deepEqual(
    (await testers()).map((r) => r.user_id),
    [tester.userId],
  )
  // Answered once: a second answer finds nothing.
  await tester.browser.get('/account/invitations')
  const second = await tester.browser.post(`/account/invitations/${invitation!.id}`, { decision: 'decline' })
  assert.equal(second.statusCode, 404)
  assert.match(second.body, /この招待はもうありません/)
})

test('race: an invitation answered twice at the same moment is taken once', {
  skip: onServer ? false : 'needs several connections: run with DATABASE_URL',
}, async (t) => {
  const app = await build(t)
  const owner = await person(app)
  const providerId = await providerOf(owner)
  const invitee = await person(app)
  for (let round = 0; round < 30; round++) {
    await db.deleteFrom('provider_members').where('provider_id', '=', providerId).where('user_id', '=', invitee.userId).execute()
    await invite(db, { userId: owner.userId, ip: null }, invitee.email, { kind: 'member', providerId, role: 'developer' })
    const [invitation] = await pendingFor(invitee.userId)
    const answers = await Promise.all(
      [true, false, true, false].map((accept) => answerInvitation(db, { userId: invitee.userId, ip: null }, invitation!.id, accept)),
    )
    assert.equal(answers.filter(Boolean).length, 1, `round ${round}: ${answers}`)
    const decisions = await db
      .selectFrom('audit_log')
      .select('id')
      .where('object_id', '=', providerId)
      .where('action', 'in', ['member.invitation_accepted', 'member.invitation_declined'])
      .where('details', '@>', JSON.stringify({ invitation: invitation!.id }) as never)
      .execute()
    assert.equal(decisions.length, 1, `round ${round}: one decision recorded`)
  }
})
