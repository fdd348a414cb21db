// Pages in Japanese and English (README, Languages: ui_locales, then Accept-Language, then Japanese;
// the language switch's choice comes between them), and the stylesheet's caching.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel, createTestUser } from '../helpers/oidc.ts'

const langOf = (html: string) => /<html lang="([^"]+)">/.exec(html)?.[1]

/** A browser that sends the given Accept-Language ('' sends none that names a language). */
const browserWith = (app: FastifyInstance, acceptLanguage: string) => new Browser(app, { 'accept-language': acceptLanguage })

test('without Accept-Language or a choice, pages are Japanese', async (t) => {
  const app = await build(t)
  const page = await browserWith(app, '').get('/login')
  assert.equal(page.statusCode, 200)
  assert.equal(langOf(page.body), 'ja')
  assert.equal(page.headers['content-language'], 'ja')
  assert.match(page.body, /<h1>plusid にログイン<\/h1>/)
  assert.match(page.body, /<label for="field-email">メールアドレス<\/label>/)
})

test('Accept-Language picks English or Japanese', async (t) => {
  const app = await build(t)
  const english = await browserWith(app, 'en-US,en;q=0.9,ja;q=0.5').get('/login')
  assert.equal(langOf(english.body), 'en')
  assert.match(english.body, /<h1>Log in to plusid<\/h1>/)
  const japanese = await browserWith(app, 'fr, ja;q=0.8, en;q=0.5').get('/register')
  assert.equal(langOf(japanese.body), 'ja')
  assert.match(japanese.body, /plusid アカウントを作成/)
})

test('the language switch is a link on every page that remembers the choice and returns to the same page', async (t) => {
  const app = await build(t)
  const browser = browserWith(app, 'en')
  const page = await browser.get('/register?next=%2Faccount')
  assert.equal(langOf(page.body), 'en')
  const link = /<a href="([^"]+)" lang="ja" hreflang="ja">日本語<\/a>/.exec(page.body)
  assert.ok(link, 'a link to Japanese')
  const switched = await browser.get(link[1]!.replaceAll('&amp;', '&'))
  assert.equal(switched.statusCode, 303)
  assert.equal(switched.headers.location, '/register?next=%2Faccount', 'back to the same page')
  const again = await browser.get('/register?next=%2Faccount')
  assert.equal(langOf(again.body), 'ja', 'the choice beats Accept-Language')
  assert.match(again.body, /<a href="[^"]+" lang="en" hreflang="en">English<\/a>/)
  // Only this site's paths: the switch is no open redirect.
  const offsite = await browser.get('/language?lang=en&next=%2F%2Fevil.example')
  assert.equal(offsite.headers.location, '/')
})

test('ui_locales of the authorization request is followed through login and consent', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ items: ['email', 'phone'] })
  const user = await createTestUser()
  // The browser prefers Japanese; the site asks for English.
  const browser = browserWith(app, 'ja')
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile email phone',
    state: 's',
    ui_locales: 'fr en',
  })
  const started = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  assert.equal(started.statusCode, 303)
  const interaction = String(started.headers.location)
  const login = await browser.get(interaction)
  assert.equal(langOf(login.body), 'en')
  assert.match(login.body, /Test Shop asks you to log in with plusid\./)

  // A wrong password: the error page of the form post is English too.
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!
  const refused = await browser.post(action, { email: user.email, password: 'wrong password', decision: 'login' })
  assert.equal(refused.statusCode, 401)
  assert.equal(langOf(refused.body), 'en')
  assert.match(refused.body, /The email or password is incorrect\./)

  const loggedIn = await browser.post(action, { email: user.email, password: user.password, decision: 'login' })
  assert.equal(loggedIn.statusCode, 303)
  const consent = await browser.get(String(loggedIn.headers.location))
  assert.equal(consent.statusCode, 200)
  assert.equal(langOf(consent.body), 'en')
  assert.match(consent.body, /Test Shop would like to use your plusid/)
  assert.match(consent.body, /Provided by default/)
  assert.match(
    consent.body,
    /<span class="item-value">090-1234-5678<\/span>/,
    'the value shared is shown next to its checkbox, as people write it (the token keeps E.164)',
  )

  // The user switches to Japanese on the consent page: a choice made now beats ui_locales.
  const link = /<a href="([^"]+)" lang="ja" hreflang="ja">/.exec(consent.body)![1]!.replaceAll('&amp;', '&')
  const back = await browser.get(link)
  assert.equal(back.headers.location, interaction)
  const japanese = await browser.get(interaction)
  assert.equal(langOf(japanese.body), 'ja')
  assert.match(japanese.body, /「Test Shop」が plusid の利用を求めています/)
  assert.match(japanese.body, /提供元: default/)
})

test('a validation error in the Profile+ editor is announced in the chosen language', async (t) => {
  const app = await build(t)
  const browser = browserWith(app, 'ja')
  await registerUser(browser)
  await browser.get('/account/profile')
  const response = await browser.post('/account/profile', { name: '花子', phone_number: 'not a phone' })
  assert.equal(response.statusCode, 400)
  assert.equal(langOf(response.body), 'ja')
  assert.match(response.body, /<p class="error form-error" role="alert">保存されていません。/)
  assert.match(response.body, /<input id="field-phone_number"[^>]*aria-invalid="true" aria-describedby="field-phone_number-error">/)
  assert.match(
    response.body,
    /<p class="error" id="field-phone_number-error" role="alert">電話番号：\+81 90 1234 5678 や 090-1234-5678 のような電話番号を入力してください<\/p>/,
  )
})

test('the Profile+ editor offers the 47 prefectures while the country is JP, free text otherwise', async (t) => {
  const app = await build(t)
  const browser = browserWith(app, 'ja')
  await registerUser(browser)
  const editor = await browser.get('/account/profile')
  const select = /<select id="field-address-region" name="address\.region"[^>]*>([\s\S]*?)<\/select>/.exec(editor.body)
  assert.ok(select, 'a select for the prefecture')
  const options = [...select[1]!.matchAll(/<option(?: value="")?[^>]*>([^<]*)<\/option>/g)].map((m) => m[1])
  assert.equal(options.length, 48, 'an empty choice and 47 prefectures')
  assert.equal(options[1], '北海道')
  assert.equal(options[13], '東京都')
  assert.equal(options[47], '沖縄県')

  // Saved with another country, the region becomes a text field; a prefecture there is the
  // slip of changing the country without a script, and is refused.
  const abroad = {
    name: '花子',
    'address.postal_code': '94043',
    'address.region': 'CA',
    'address.locality': 'Mountain View',
    'address.street_address': '1600 Amphitheatre Pkwy',
    'address.country': 'US',
  }
  assert.equal((await browser.post('/account/profile', abroad)).statusCode, 303)
  const text = await browser.get('/account/profile')
  assert.match(text.body, /<input id="field-address-region" name="address\.region" type="text" value="CA"/)
  const slip = await browser.post('/account/profile', { ...abroad, 'address.region': '東京都' })
  assert.equal(slip.statusCode, 400)
  assert.match(slip.body, /id="field-address-region-error" role="alert">都道府県：日本の都道府県です/)
})

test('the stylesheet is served with a content hash in its URL and a one-year immutable cache', async (t) => {
  const app = await build(t)
  const page = await app.inject({ url: '/login' })
  const href = /<link rel="stylesheet" href="(\/static\/plusid\.[0-9a-f]{12}\.css)">/.exec(page.body)?.[1]
  assert.ok(href)
  const css = await app.inject({ url: href })
  assert.equal(css.statusCode, 200)
  assert.equal(css.headers['cache-control'], 'public, max-age=31536000, immutable')
  assert.match(String(css.headers['content-type']), /^text\/css/)
  assert.match(css.body, /"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Yu Gothic"/)
  assert.doesNotMatch(css.body, /@import|url\(|https?:/, 'nothing loaded from elsewhere')
  // No inline style or script anywhere the CSP would block.
  assert.doesNotMatch(page.body, /style=|<style|<script(?! src)/)
})

test('the editor fills in the prefecture and city from a Japanese postal code, without a script and without saving', async (t) => {
  const app = await build(t)
  const browser = browserWith(app, 'ja')
  await registerUser(browser)
  await browser.get('/account/profile')
  const filled = await browser.post('/account/profile', {
    name: '花子',
    'address.postal_code': '100-0001',
    'address.country': 'JP',
    lookup: 'address',
  })
  assert.equal(filled.statusCode, 200)
  assert.match(filled.body, /<option selected>東京都<\/option>/)
  assert.match(filled.body, /name="address\.locality" type="text" value="千代田区千代田"/)
  assert.match(filled.body, /郵便番号から都道府県と市区町村を入力しました/)
  assert.match((await browser.get('/account')).body, /<dt>住所<\/dt>\s*<dd><span class="hint">未登録<\/span>/, 'nothing was saved')
  const unknown = await browser.post('/account/profile', { name: '花子', 'address.postal_code': '000-0000', lookup: 'address' })
  assert.match(unknown.body, /id="field-address-postal_code-error" role="alert">郵便番号：見つからない郵便番号です/)
})
