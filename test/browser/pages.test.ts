// Every page a person can reach — plusid's and the demo shop's — opened in Chromium at a phone's
// and a desktop's size, in both languages: none may log a console error or violate the CSP, and
// each is photographed (full page) as <page>-<lang>-<phone|desktop>.png: into docs/screenshots
// (the folder the README links) with UPDATE_SCREENSHOTS=1, otherwise into test-results/screenshots,
// so that an ordinary test run leaves the checkout clean (pages show times and ids that change).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { registerAccount } from '../../src/auth/accounts.ts'
import { applyForPermission, ApplicationInput } from '../../src/console/review.ts'
import { createChannel, NewChannelInput } from '../../src/oauth/channels.ts'
import { PROFILE_ITEMS, validateProfileForm } from '../../src/profile/profile.ts'
import { findChannel } from '../../src/storage/channels.ts'
import { saveProfile } from '../../src/storage/profiles.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { DESKTOP, launchChromium, PHONE, shopPort, skipWithoutChromium, startShop, watchedPage } from '../helpers/chromium.ts'
import { testDatabase } from '../helpers/database.ts'
import { createTestChannel, FULL_PROFILE, startServer } from '../helpers/oidc.ts'

const INDEX = path.resolve('docs/screenshots/README.md')
const SCREENSHOTS = path.resolve(process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots')
const ITEMS = ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address']
const PASSWORD = 'hanako pages password'
const SIZES = { phone: PHONE, desktop: DESKTOP }

test('every page: no console errors or CSP violations; screenshots at phone and desktop size in both languages', {
  skip: skipWithoutChromium,
}, async (t) => {
  const { issuer } = await startServer(t)
  const where = await shopPort()
  const shopChannel = await createTestChannel({
    name: 'さくら商店',
    providerName: 'Sakura Shop',
    callbackUrls: [where.callbackUrl],
    idTokenAlg: 'ES256',
    items: ITEMS,
  })
  // The consent page links the shop's privacy policy: the photographs should show it.
  await (await testDatabase()).db
    .updateTable('channels')
    .set({ privacy_policy_url: 'https://shop.example.com/privacy' })
    .where('id', '=', shopChannel.channelId)
    .execute()
  const shop = await startShop(t, where, issuer, shopChannel)
  const browser = await launchChromium(t)
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  const problems: string[] = []
  const photographed = new Set<string>()

  for (const lang of ['ja', 'en'] as const) {
    for (const [size, options] of Object.entries(SIZES)) {
      // A fresh administrator for each run, so the consent page is shown each time; they own a
      // channel of their own (console pages) with an application waiting (the review queue).
      const email = `hanako.${lang}.${size}@example.com`
      const own = await administratorWithChannel(email)
      const context = await browser.newContext({ ...options, locale: lang })
      const page = await watchedPage(context, problems)
      const visit = async (name: string, url: string, status = 200) => {
        const response = await page.goto(url)
        assert.equal(response?.status(), status, `${url} answered ${response?.status()}`)
        await shoot(name)
      }
      const shoot = async (name: string) => {
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${lang}-${size}.png`), fullPage: true })
        photographed.add(name)
        if (size === 'phone') problems.push(...(await layoutProblems()).map((problem) => `${name} (${lang}, phone): ${problem}`))
      }
      // On a phone nothing may stick out sideways (long emails, ids and tables wrap), and every
      // button, field, tab and header link is at least 44 px high. A string: no DOM types here.
      const layoutProblems = (): Promise<string[]> =>
        page.evaluate(`(() => {
          const problems = []
          if (document.documentElement.scrollWidth > document.documentElement.clientWidth) problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide')
          const targets = 'main button, main input:not([type=hidden]):not([type=checkbox]), main select, .tabs a, .site-header a, .site-header button'
          for (const element of document.querySelectorAll(targets)) {
            const height = element.getBoundingClientRect().height
            if (height > 0 && height < 44) problems.push((element.textContent.trim() || element.outerHTML.slice(0, 60)) + ' is ' + height + ' px high')
          }
          return problems
        })()`)

      await visit('register', `${issuer}/register`)
      await visit('login', `${issuer}/login`)
      await page.fill('input[name=email]', email)
      await page.fill('input[name=password]', PASSWORD)
      await Promise.all([page.waitForURL(`${issuer}/account`), page.click('main form button[type=submit]')])

      // The demo shop's story: its form, plusid's consent page, the filled form, the member.
      await visit('shop-form', `${shop.url}/?lang=${lang}`)
      await Promise.all([page.waitForURL(`${issuer}/**`), page.click('#plusid-login')])
      await shoot('consent')
      await page.locator('input[name=items][value=address]').uncheck()
      await Promise.all([page.waitForURL(`${shop.url}/**`), page.click('button[name=decision][value=allow]')])
      await shoot('shop-filled')
      await Promise.all([page.waitForURL(`${shop.url}/member**`), page.click('form.member-form button[type=submit]')])
      await shoot('shop-member')

      await visit('account', `${issuer}/account`)
      await visit('profile', `${issuer}/account/profile`)
      await visit('apps', `${issuer}/account/apps`)
      await visit('history', `${issuer}/account/history`)
      await visit('sessions', `${issuer}/account/sessions`)
      await visit('password', `${issuer}/account/password`)
      await visit('delete-account', `${issuer}/account/delete`)
      await visit('console', `${issuer}/console`)
      await visit('console-provider', `${issuer}/console/providers/${own.providerId}`)
      await visit('console-channel', `${issuer}/console/channels/${own.channelId}`)
      // Reissuing the secret: the confirmation, then the page that shows the new secret once.
      await visit('console-secret-confirm', `${issuer}/console/channels/${own.channelId}/secret`)
      await Promise.all([
        page.waitForURL(`${issuer}/console/channels/${own.channelId}/secret/**`),
        page.click('main form button[type=submit]'),
      ])
      await shoot('console-secret')
      await visit('admin-queue', `${issuer}/admin`)
      await visit('admin-channels', `${issuer}/admin/channels`)
      await visit('admin-channel', `${issuer}/admin/channels/${shopChannel.channelId}`)
      await visit('admin-users', `${issuer}/admin/users`)
      await visit('admin-tokens', `${issuer}/admin/tokens`)
      // The newest entries only: the log grows with every run of this loop.
      await visit('admin-audit', `${issuer}/admin/audit?limit=8`)
      await visit('logout', `${issuer}/logout`)
      // Chromium reports the 404 of the document itself as a console error: that one is expected.
      const before = problems.length
      await visit('error', `${issuer}/no-such-page`, 404)
      problems.splice(before, problems.length - before, ...problems.slice(before).filter((p) => !/Failed to load resource: .*404/.test(p)))
      await context.close()
    }
  }

  assert.deepEqual(problems, [], 'no console errors and no CSP violations')
  // The index in docs/screenshots/README.md names every page photographed here.
  const index = fs.readFileSync(INDEX, 'utf8')
  for (const name of photographed) assert.ok(index.includes(`${name}-ja-phone.png`), `docs/screenshots/README.md lists ${name}`)
})

async function administratorWithChannel(email: string): Promise<{ providerId: string; channelId: string }> {
  const { db } = await testDatabase()
  const registration = await registerAccount(db, { email, password: PASSWORD, displayName: '花子', isAdmin: true })
  assert.ok(registration.ok)
  const userId = registration.user.id
  const profile = validateProfileForm(FULL_PROFILE, PROFILE_ITEMS)
  assert.ok(profile.ok)
  await saveProfile(db, userId, profile.profile)
  const input = NewChannelInput.parse({
    name: '花子のお店',
    providerName: `Hanako Lab (${email})`,
    callbackUrls: ['https://lab.example.com/callback'],
  })
  const { channelId } = await createChannel(db, TEST_MASTER_KEY, input, { userId })
  await applyForPermission(
    db,
    { userId, kind: 'user', ip: null },
    channelId,
    ApplicationInput.parse({ item: 'email', purpose: 'To send order confirmations.', policyUrl: 'https://lab.example.com/privacy' }),
  )
  await createAdminToken(db, userId)
  return { providerId: (await findChannel(db, channelId))!.providerId, channelId }
}
