// The format of each Profile+ value (docs/profile-claims.md) as zod schemas over user input. Each schema
// takes what a person typed (or a CLI file holds) and yields the stored, normalised form, or
// fails with a message key (src/i18n) shown next to the field, with `max`/`min` as parameters.
import { parsePhoneNumberWithError } from 'libphonenumber-js/max'
import { z } from 'zod'
import { ISO_3166_ALPHA2 } from './countries.ts'

/** A string field; a missing one "is required", anything else that is not text "must be text". */
export function requiredText() {
  return z.string({ error: (issue) => (issue.input === undefined ? 'error.required' : 'error.text') })
}

// C0/C1 controls, format characters (bidi overrides, zero-width, BOM), lone surrogates, and
// line/paragraph separators: none belongs in a name or an address, and some can disguise text.
const FORBIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u

/** Length in characters as a person counts them (code points), not UTF-16 units. */
const lengthOf = (value: string) => [...value].length

/** NFC-normalised, trimmed text of 1..max characters with no control characters. */
export function text(max: number) {
  return requiredText()
    .transform((value) => value.normalize('NFC').trim())
    .superRefine((value, ctx) => {
      if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'error.required' })
      else if (FORBIDDEN_CHARACTERS.test(value)) ctx.addIssue({ code: 'custom', message: 'error.controlCharacters' })
      else if (lengthOf(value) > max) ctx.addIssue({ code: 'custom', message: 'error.tooLong', params: { max } })
    })
}

// Full-width katakana letters ァ..ヺ, the long-vowel mark ー, and ASCII or ideographic spaces.
const KATAKANA = /^[\u30A1-\u30FA\u30FC \u3000]+$/u

export const pronunciation = text(64).refine((value) => KATAKANA.test(value), {
  message: 'error.katakana',
})

// The two listed genders in either language (the editor shows them translated) are stored as
// `male`/`female`; anything else is the user's own words, kept as written.
const GENDER_WORDS: Record<string, 'male' | 'female'> = { male: 'male', female: 'female', 男性: 'male', 女性: 'female' }

export const gender = text(32).transform((value) => GENDER_WORDS[value.toLowerCase()] ?? value)

/**
 * The latest calendar date anywhere on Earth (UTC+14): a person born "today" in Kiribati is not
 * born in the future, whatever the server's time zone.
 */
export function latestDateToday(now: Date): string {
  return new Date(now.getTime() + 14 * 3600 * 1000).toISOString().slice(0, 10)
}

export function birthdate(now: () => Date) {
  return requiredText()
    .transform((value) => value.trim())
    .superRefine((value, ctx) => {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
      if (!match) return void ctx.addIssue({ code: 'custom', message: 'error.dateFormat' })
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
      const date = new Date(Date.UTC(year, month - 1, day))
      if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
        return void ctx.addIssue({ code: 'custom', message: 'error.notRealDate' })
      }
      if (year < 1900) return void ctx.addIssue({ code: 'custom', message: 'error.before1900' })
      if (value > latestDateToday(now())) ctx.addIssue({ code: 'custom', message: 'error.future' })
    })
}

/**
 * E.164, or a Japanese national number (090-1234-5678) stored as E.164. Full-width digits and
 * punctuation, as a Japanese keyboard types them, are read as their ASCII forms (NFKC).
 */
export const phoneNumber = requiredText().transform((value, ctx) => {
  const input = value.normalize('NFKC').trim()
  const invalid = () => {
    ctx.addIssue({ code: 'custom', message: 'error.phone' })
    return z.NEVER
  }
  if (input.length === 0 || input.length > 32 || !/^[+\d][\d\s().-]*$/.test(input)) return invalid()
  try {
    const phone = parsePhoneNumberWithError(input, 'JP')
    if (!phone.isValid() || phone.ext) return invalid()
    return phone.number
  } catch {
    return invalid()
  }
})

export const country = requiredText()
  .transform((value) => value.normalize('NFKC').trim().toUpperCase())
  .refine((value) => ISO_3166_ALPHA2.has(value), { message: 'error.country' })

/** Japanese postal codes are 7 digits (102-8282 accepted, 1028282 stored); others are checked loosely. */
export function postalCode(countryCode: string) {
  return requiredText()
    .transform((value) => value.normalize('NFKC').trim())
    .transform((value, ctx) => {
      if (countryCode === 'JP') {
        const match = /^〒?\s*(\d{3})-?(\d{4})$/.exec(value)
        if (match) return match[1]! + match[2]!
        ctx.addIssue({ code: 'custom', message: 'error.postalJp' })
        return z.NEVER
      }
      if (/^[A-Za-z0-9][A-Za-z0-9 -]{1,14}$/.test(value)) return value.toUpperCase()
      ctx.addIssue({ code: 'custom', message: 'error.postalOther' })
      return z.NEVER
    })
}

// RFC 5322 dot-atom local part (quoted local parts are not accepted: no mail provider issues them)
// and a DNS host name with at least two labels.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/

/** An email address with the domain lower-cased, at most 254 characters. */
export const email = requiredText().transform((value, ctx) => {
  const input = value.trim()
  const at = input.lastIndexOf('@')
  const local = input.slice(0, at)
  const domain = input.slice(at + 1).toLowerCase()
  if (at < 1 || input.length > 254 || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    ctx.addIssue({ code: 'custom', message: 'error.email' })
    return z.NEVER
  }
  return `${local}@${domain}`
})

export const displayName = text(64)
