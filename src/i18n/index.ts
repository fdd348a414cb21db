// Every text a person reads comes from a message catalogue, one per language (en.ts, ja.ts).
// English is the reference: its keys are the MessageKey union, so tsc refuses an unknown key in
// code and a catalogue that lacks (or adds) one. Templates are checked by test/unit/i18n.test.ts.
import type { z } from 'zod'
import { en, type MessageKey } from './en.ts'
import { ja } from './ja.ts'

export type { MessageKey } from './en.ts'

export const LOCALES = ['ja', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: Locale = 'ja'

export const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { ja, en }

export type MessageParams = Record<string, string | number>

/** A message to translate later, where the language is known (validation results, domain errors). */
export interface Message {
  key: MessageKey
  params?: MessageParams
}

export type Translate = (key: MessageKey, params?: MessageParams) => string

export function isMessageKey(value: unknown): value is MessageKey {
  return typeof value === 'string' && Object.hasOwn(en, value)
}

/** The text of a key in a language, with `{name}` placeholders filled in. */
export function translate(locale: Locale, key: MessageKey, params?: MessageParams): string {
  const text = CATALOGUES[locale][key]
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole))
}

export function translator(locale: Locale): Translate {
  return (key, params) => translate(locale, key, params)
}

/** English, for machine-facing texts (the CLI, the admin API) that share messages with pages. */
export const english = translator('en')

export function messageText(t: Translate, message: Message): string {
  return t(message.key, message.params)
}

/** The first supported language of a list such as `ui_locales` ("fr en-GB ja") or Accept-Language. */
export function firstSupported(tags: readonly string[]): Locale | null {
  for (const tag of tags) {
    const language = tag.trim().toLowerCase().split('-')[0]
    if (language === 'ja' || language === 'en') return language
  }
  return null
}

/** ui_locales: space-separated BCP 47 tags in order of preference (OIDC Core §3.1.2.1). */
export function fromUiLocales(uiLocales: string | undefined | null): Locale | null {
  return uiLocales ? firstSupported(uiLocales.split(' ').filter(Boolean)) : null
}

/** Accept-Language: tags with optional q-values (RFC 9110 §12.5.4); q=0 means "not this one". */
export function fromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header) return null
  const ranked = header
    .split(',')
    .slice(0, 32)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find(Boolean)
      return { tag, q: q ? Number(q[1]) : 1, index }
    })
    .filter((entry) => entry.q > 0 && entry.tag !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index)
  return firstSupported(ranked.map((entry) => entry.tag))
}

/**
 * The language switch's cookie: the language and when it was chosen (seconds since the epoch),
 * so an authorization started after the choice can still follow its own ui_locales.
 */
export interface LanguageChoice {
  locale: Locale
  chosenAt: Date
}

export function formatChoice(locale: Locale, now: Date): string {
  return `${locale}.${Math.floor(now.getTime() / 1000)}`
}

export function parseChoice(value: string | undefined): LanguageChoice | null {
  const match = value ? /^(ja|en)\.(\d{1,12})$/.exec(value) : null
  return match ? { locale: match[1] as Locale, chosenAt: new Date(Number(match[2]) * 1000) } : null
}

/**
 * The page's language. During an authorization: its ui_locales, unless the user chose a language
 * with the switch after the authorization started. Otherwise the switch's choice, then
 * Accept-Language, then Japanese (README: Languages).
 */
export function chooseLocale(input: {
  choice: LanguageChoice | null
  acceptLanguage: string | undefined
  authorization?: { uiLocales: string | undefined | null; startedAt: Date } | undefined
}): Locale {
  const { choice, authorization } = input
  const requested = authorization ? fromUiLocales(authorization.uiLocales) : null
  // The cookie keeps whole seconds: compare with the start rounded down the same way.
  const chosenDuring =
    choice !== null &&
    authorization !== undefined &&
    choice.chosenAt.getTime() >= Math.floor(authorization.startedAt.getTime() / 1000) * 1000
  if (requested && !chosenDuring) return requested
  return choice?.locale ?? fromAcceptLanguage(input.acceptLanguage) ?? DEFAULT_LOCALE
}

/** The name of each language in itself, for the switch. */
export const LANGUAGE_NAMES: Record<Locale, string> = { ja: '日本語', en: 'English' }

/**
 * A zod issue as a message: schemas give message keys (src/i18n), with their limits from the
 * issue (`max`, `min`) or its params; a message that is not a key (zod's own) reads "is not valid".
 */
export function issueMessage(issue: z.core.$ZodIssue): Message {
  if (!isMessageKey(issue.message)) return { key: 'error.invalid' }
  const params: MessageParams = {}
  if (issue.code === 'too_big') params.max = Number(issue.maximum)
  if (issue.code === 'too_small') params.min = Number(issue.minimum)
  if (issue.code === 'invalid_value') params.items = issue.values.map(String).join(', ')
  if (issue.code === 'custom' && issue.params) Object.assign(params, issue.params)
  return { key: issue.message, params }
}

/** A zod issue's message in English, for machine-facing answers (the admin API). */
export function englishIssue(issue: z.core.$ZodIssue): string {
  return messageText(english, issueMessage(issue))
}
