// Several plusid processes on one PostgreSQL database behave as one server: a session, a code, a
// refresh token and a key rotation are shared through the database and nowhere else.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import os from 'node:os'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { registerAccount } from '../src/auth/accounts.ts'
import { approvePermissions, createChannel, NewChannelInput } from '../src/oauth/channels.ts'
import { rotateSigningKeys } from '../src/oauth/keys.ts'
import { migrate } from '../src/storage/migrate.ts'
import { installKeyring } from '../src/storage/data-keys.ts'
import { createTestDatabase, onServer } from './helpers/database.ts'
import { freePort, WebBrowser } from './helpers/oidc.ts'

const CALLBACK = 'https://rp.example.com/callback'

test('three processes share sessions, codes, refresh tokens and key rotations', {
  skip: onServer ? false : 'several processes cannot share the embedded database: runs against the PostgreSQL server only',
  timeout: 120_000,
}, async (t) => {
  const fresh = await createTestDatabase()
  t.after(async () => {
    await fresh.database.close()
    await fresh.drop()
  })
  await migrate(fresh.database)
  const masterKey = randomBytes(32)
  const db = fresh.database.db
  await installKeyring(db, masterKey)

  // One channel of each kind and a user, written straight to the shared database.
  const web = await createChannel(db, masterKey, NewChannelInput.parse({ name: 'Web', callbackUrls: [CALLBACK], publish: true }))
  const spa = await createChannel(
    db,
    masterKey,
    NewChannelInput.parse({ name: 'Spa', kind: 'spa', callbackUrls: [CALLBACK], publish: true }),
  )
  await approvePermissions(db, web.channelId, ['email'])
  const registration = await registerAccount(db, { email: 'scale@example.com', password: 'scale password', displayName: 'Scale' })
  assert.ok(registration.ok)

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-scale-'))
  const ports = await Promise.all([freePort(), freePort(), freePort()])
  const processes: ChildProcess[] = ports.map((port) =>
    spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: fresh.url!,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: 'http://127.0.0.1:1',
        PLUSID_MASTER_KEY: masterKey.toString('hex'),
        KEY_REFRESH_SECONDS: '1',
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  t.after(async () => {
    await Promise.all(
      processes.map(async (child) => {
        if (child.exitCode === null) {
          child.kill('SIGTERM')
          await once(child, 'exit')
        }
      }),
    )
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  await Promise.all(
    processes.map(async (child) => {
      let output = ''
      child.stdout!.on('data', (chunk) => (output += chunk))
      child.stderr!.on('data', (chunk) => (output += chunk))
      for (let waited = 0; !output.includes('plusid is ready'); waited += 50) {
        if (waited > 60_000 || child.exitCode !== null) throw new Error(`a plusid process did not start: ${output}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }),
  )
  const bases = ports.map((port) => `http://127.0.0.1:${port}`)
  const [a, b, c] = bases as [string, string, string]

  // A login on one process is valid on the others.
  const browser = new WebBrowser()
  await browser.get(`${a}/login`)
  const login = await browser.post(`${a}/login`, { email: 'scale@example.com', password: 'scale password' })
  assert.equal(login.status, 303)
  for (const base of [b, c]) assert.equal((await browser.get(`${base}/account`)).status, 200, `${base} knows the session`)

  // Consent on B, then a code from C (the grant is shared too).
  const authorize = (base: string, channelId: string, extra: Record<string, string> = {}) =>
    `${base}/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channelId, redirect_uri: CALLBACK, scope: 'openid profile email', state: 's', ...extra })}`
  let response = await browser.get(authorize(b, web.channelId))
  assert.equal(response.status, 303)
  response = await browser.get(new URL(response.headers.get('location')!, b).href)
  response = await browser.post(new URL(browser.formAction(), b).href, { items: 'email', decision: 'allow' })
  assert.equal(response.status, 303, 'the consent form post answers 303')
  response = await browser.get(authorize(c, web.channelId))
  assert.equal(response.status, 302, 'the grant made on B lets C answer at once')
  const code = new URL(response.headers.get('location')!).searchParams.get('code')!

  // 20 concurrent redemptions of one code, spread over the three processes: exactly one succeeds.
  const tokenRequest = (base: string, fields: Record<string, string>) =>
    fetch(`${base}/oauth2/v2.1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  const redemptions = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      tokenRequest(bases[i % 3]!, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: web.channelId,
        client_secret: web.channelSecret!,
      }),
    ),
  )
  const statuses = redemptions.map((r) => r.status)
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`)
  assert.equal(statuses.filter((s) => s === 400).length, 19)

  // The same for one refresh token of a public channel (rotated on use).
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  response = await browser.get(
    authorize(a, spa.channelId, { scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256' }),
  )
  response = await browser.get(new URL(response.headers.get('location')!, a).href)
  response = await browser.post(new URL(browser.formAction(), a).href, { decision: 'allow' })
  const spaCode = new URL(response.headers.get('location')!).searchParams.get('code')!
  const spaTokens = (await (
    await tokenRequest(b, {
      grant_type: 'authorization_code',
      code: spaCode,
      redirect_uri: CALLBACK,
      client_id: spa.channelId,
      code_verifier: verifier,
    })
  ).json()) as { refresh_token: string }
  assert.ok(spaTokens.refresh_token)
  const refreshes = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      tokenRequest(bases[i % 3]!, { grant_type: 'refresh_token', refresh_token: spaTokens.refresh_token, client_id: spa.channelId }),
    ),
  )
  assert.equal(refreshes.filter((r) => r.status === 200).length, 1, `statuses: ${refreshes.map((r) => r.status).join(',')}`)

  // A key rotation is served by every process within a bounded time (KEY_REFRESH_SECONDS=1).
  const kids = async (base: string) =>
    ((await (await fetch(`${base}/oauth2/v2.1/certs`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
  const rotated = await rotateSigningKeys(db, masterKey, 3900)
  const started = Date.now()
  for (const base of bases) {
    while (!(await kids(base)).includes(rotated.RS256.next)) {
      assert.ok(Date.now() - started < 5000, `${base} did not publish the new key within 5 s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  // And signs with the new current key.
  response = await browser.get(authorize(a, web.channelId))
  const newCode = new URL(response.headers.get('location')!).searchParams.get('code')!
  const tokens = (await (
    await tokenRequest(c, {
      grant_type: 'authorization_code',
      code: newCode,
      redirect_uri: CALLBACK,
      client_id: web.channelId,
      client_secret: web.channelSecret!,
    })
  ).json()) as { id_token: string }
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0]!, 'base64url').toString())
  assert.equal(header.kid, rotated.RS256.current, 'the channel signs with RS256, the default')
})
