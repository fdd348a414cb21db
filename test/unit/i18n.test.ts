// The message catalogues: both languages have the same keys and the same placeholders, and every
// key a template names exists (tsc checks the keys used in code: MessageKey is a closed union).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { en } from '../../src/i18n/en.ts'
import { ja } from '../../src/i18n/ja.ts'
import { chooseLocale, fromAcceptLanguage, fromUiLocales, isMessageKey, parseChoice, translate } from '../../src/i18n/index.ts'
import { formatAddress, formatDate } from '../../src/i18n/format.ts'
import { VIEWS_DIR } from '../../src/views/render.ts'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

test('ja and en have exactly the same keys, each text non-empty with the same placeholders', () => {
  assert.deepEqual(Object.keys(ja).sort(), Object.keys(en).sort())
  for (const [key, english] of Object.entries(en)) {
    const japanese = ja[key as keyof typeof en]
    assert.ok(english.trim() && japanese.trim(), `${key} has text in both languages`)
    assert.deepEqual(placeholders(japanese), placeholders(english), `${key}: same placeholders`)
  }
})

test('every key a template names exists in the catalogues', () => {
  const used = new Set<string>()
  for (const file of fs.readdirSync(VIEWS_DIR).filter((name) => name.endsWith('.eta'))) {
    const source = fs.readFileSync(path.join(VIEWS_DIR, file), 'utf8')
    // it.t('key', …) and it.t(cond ? 'key' : 'key'): every quoted key-shaped string inside it.t( … )
    for (const call of source.matchAll(/it\.t\(([^)]*)\)/g)) {
      for (const literal of call[1]!.matchAll(/'([a-zA-Z]+(?:\.[a-zA-Z_]+)+)'/g)) used.add(literal[1]!)
    }
  }
  assert.ok(used.size > 150, `templates use the catalogue (${used.size} keys found)`)
  const missing = [...used].filter((key) => !isMessageKey(key))
  assert.deepEqual(missing, [], 'keys used in templates but missing from the catalogues')
})

test('no template keeps English text outside the catalogue', () => {
  for (const file of fs.readdirSync(VIEWS_DIR).filter((name) => name.endsWith('.eta'))) {
    const source = fs.readFileSync(path.join(VIEWS_DIR, file), 'utf8')
    // Text between tags that is not a template expression: letters there are untranslated words.
    const text = source.replace(/<%[\s\S]*?%>/g, '').replace(/<[^>]*>/g, ' ')
    const words = text.match(/\b[A-Za-z]{3,}\b/g)?.filter((word) => !['plusid', 'Profile', 'doctype', 'html'].includes(word)) ?? []
    assert.deepEqual(words, [], `${file} has untranslated text`)
  }
})

test('ui_locales and Accept-Language pick the first supported language; Japanese by default', () => {
  assert.equal(fromUiLocales('fr-CA en-GB ja'), 'en')
  assert.equal(fromUiLocales('se'), null)
  assert.equal(fromAcceptLanguage('fr;q=1, en;q=0.5, ja;q=0.8'), 'ja')
  assert.equal(fromAcceptLanguage('en-US,en;q=0.9'), 'en')
  assert.equal(fromAcceptLanguage('ja;q=0, en;q=0.1'), 'en')
  assert.equal(chooseLocale({ choice: null, acceptLanguage: undefined }), 'ja')
  assert.equal(chooseLocale({ choice: null, acceptLanguage: 'de' }), 'ja')
  const started = new Date('2026-11-28T10:00:00Z')
  const before = parseChoice(`ja.${started.getTime() / 1000 - 60}`)
  const after = parseChoice(`ja.${started.getTime() / 1000 + 5}`)
  // ui_locales beats a choice made before the authorization, not one made during it.
  assert.equal(chooseLocale({ choice: before, acceptLanguage: 'ja', authorization: { uiLocales: 'en', startedAt: started } }), 'en')
  assert.equal(chooseLocale({ choice: after, acceptLanguage: 'en', authorization: { uiLocales: 'en', startedAt: started } }), 'ja')
  assert.equal(parseChoice('xx.1'), null)
})

test('dates and addresses in each language\u2019s own format', () => {
  assert.equal(formatDate('ja', '2026-11-28'), '2026年11月28日')
  assert.equal(formatDate('en', '2026-11-28'), '28 November 2026')
  const address = { postalCode: '1028282', region: '東京都', locality: '千代田区紀尾井町', streetAddress: '1番3号', country: 'JP' }
  assert.equal(formatAddress('ja', address), '〒102-8282 東京都千代田区紀尾井町1番3号')
  assert.equal(formatAddress('en', address), '1番3号, 千代田区紀尾井町, 東京都 102-8282, Japan')
  assert.equal(translate('en', 'error.tooLong', { max: 64 }), 'must be at most 64 characters')
  assert.equal(translate('ja', 'error.tooLong', { max: 64 }), '64文字以内で入力してください')
})
