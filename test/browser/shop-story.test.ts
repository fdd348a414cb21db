// The demo's story in a real browser at a phone's size, once per language: a person registers at
// plusid and fills in Profile+, then the demo shop's "Fill in with plusid" logs them in; on the
// consent page they uncheck the address; the shop's form arrives filled with everything else and
// not the address; they confirm, and the shop stores the member linked to their `sub`. A second
// "Fill in with plusid" finds that member (ID linking).
// The test relies on form field names and roles; the one text it reads (the consent page's heading)
// it compares with the message catalogue, to see the page is in the language the shop asked for.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Page } from 'playwright-core'
import { translate } from '../../src/i18n/index.ts'
import { pairwiseSubject } from '../../src/oauth/subject.ts'
import { findChannel } from '../../src/storage/channels.ts'
import { findUserWithPasswordByEmail } from '../../src/storage/users.ts'
import { launchChromium, PHONE, shopPort, skipWithoutChromium, startShop, watchedPage } from '../helpers/chromium.ts'
import { testDatabase } from '../helpers/database.ts'
import { createTestChannel, FULL_PROFILE, startServer } from '../helpers/oidc.ts'

const ITEMS = ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address']

for (const lang of ['ja', 'en'] as const) {
  test(`the demo shop story at a phone's size (ui_locales=${lang})`, { skip: skipWithoutChromium }, async (t) => {
    const { issuer } = await startServer(t)
    const where = await shopPort()
    const channel = await createTestChannel({
      name: 'さくら商店',
      providerName: `Sakura Shop ${lang}`,
      callbackUrls: [where.callbackUrl],
      idTokenAlg: 'ES256',
      items: ITEMS,
    })
    const shop = await startShop(t, where, issuer, channel)
    const browser = await launchChromium(t)
    const context = await browser.newContext({ ...PHONE, locale: lang })
    const problems: string[] = []
    const page = await watchedPage(context, problems)
    const email = `hanako.story.${lang}@example.com`

    // Register at plusid.
    await page.goto(`${issuer}/register`)
    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', 'hanako story password')
    await page.fill('input[name=name]', '花子')
    await Promise.all([page.waitForURL(`${issuer}/account`), page.click('main form button[type=submit]')])

    // Fill in Profile+ in the editor.
    await page.goto(`${issuer}/account/profile`)
    // The prefecture is a <select> of the 47 (the country is Japan); everything else is typed.
    for (const [name, value] of Object.entries(FULL_PROFILE)) {
      const field = page.locator(`[name="${name}"]`)
      if ((await field.evaluate((element) => element.tagName)) === 'SELECT') await field.selectOption(value)
      else await field.fill(value)
    }
    await Promise.all([page.waitForURL(/\/account\?saved=1$/), page.click('form[action="/account/profile"] button[type=submit]')])

    // At the shop: "Fill in with plusid" leads to plusid's consent page (the session is there).
    await page.goto(`${shop.url}/?lang=${lang}`)
    await assertLang(page, lang)
    await Promise.all([page.waitForURL(`${issuer}/**`), page.click('#plusid-login')])
    await assertLang(page, lang)
    // The consent page speaks the shop's language: its heading is the catalogue's text.
    assert.equal((await page.locator('main h1').textContent())?.trim(), translate(lang, 'consent.heading', { channel: 'さくら商店' }))
    const offered = await page
      .locator('input[name=items]')
      .evaluateAll((boxes) => boxes.map((box) => [box.getAttribute('value'), (box as unknown as { checked: boolean }).checked]))
    assert.deepEqual(
      new Map(offered as [string, boolean][]),
      new Map(ITEMS.map((item) => [item, true])),
      'every item is offered, checked by default',
    )
    await page.locator('input[name=items][value=address]').uncheck()
    await Promise.all([page.waitForURL(`${shop.url}/**`), page.click('button[name=decision][value=allow]')])

    // The shop's form is filled with the granted items, and the address is left empty.
    const expected = {
      family_name: '山田',
      given_name: '花子',
      family_name_kana: 'ヤマダ',
      given_name_kana: 'ハナコ',
      gender: 'female',
      birthdate: '1990-01-31',
      phone: '090-1234-5678',
      email,
      postal_code: '',
      prefecture: '',
      city: '',
      street: '',
    }
    assert.deepEqual(await formValues(page, Object.keys(expected)), expected)
    await assertLang(page, lang)

    // Confirm: the member is stored, linked to the pairwise sub plusid issued to this provider.
    await Promise.all([page.waitForURL(`${shop.url}/member**`), page.click('form.member-form button[type=submit]')])
    assert.equal(await page.locator('dd[data-field=family_name]').textContent(), '山田')
    const database = await testDatabase()
    const user = await findUserWithPasswordByEmail(database.db, email)
    const sub = pairwiseSubject((await findChannel(database.db, channel.channelId))!.pairwiseSecret, user!.user.id)
    assert.equal(shop.app.members.all().length, 1)
    const member = shop.app.members.all()[0]!
    assert.equal(member.sub, sub)
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((name) => [name, member[name as keyof typeof expected]])), expected)

    // Forget the shop's session and fill in again: consent is remembered, the sub finds the member.
    await Promise.all([page.waitForURL(`${shop.url}/?lang=${lang}`), page.click('#shop-logout')])
    await Promise.all([page.waitForURL(`${shop.url}/member**`), page.click('#plusid-login')])
    assert.equal(await page.locator('dd[data-field=email]').textContent(), email)
    assert.equal(shop.app.members.all().length, 1, 'no second member for the same sub')

    assert.deepEqual(problems, [], 'no console errors and no CSP violations')
  })
}

async function formValues(page: Page, names: string[]): Promise<Record<string, string>> {
  const values: Record<string, string> = {}
  for (const name of names) values[name] = await page.locator(`form.member-form [name="${name}"]`).inputValue()
  return values
}

/** The page declares the language the shop asked for (through ui_locales at plusid). */
async function assertLang(page: Page, lang: string): Promise<void> {
  assert.equal(await page.locator('html').getAttribute('lang'), lang, `${page.url()} declares <html lang="${lang}">`)
}
