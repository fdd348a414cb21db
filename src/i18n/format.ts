// Dates, genders and addresses as each language writes them.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import type { Address } from '../profile/profile.ts'
import { translate, type Locale } from './index.ts'

const INTL_LOCALE: Record<Locale, string> = { ja: 'ja-JP', en: 'en-GB' }

// plusid serves Japan first: times are shown in Japan time, with the zone named.
const TIME_ZONE = 'Asia/Tokyo'

const dateFormats = new Map<string, Intl.DateTimeFormat>()
function formatter(locale: Locale, kind: 'date' | 'dateTime'): Intl.DateTimeFormat {
  const key = `${locale}:${kind}`
  let format = dateFormats.get(key)
  if (!format) {
    format =
      kind === 'date'
        ? new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'UTC' })
        : new Intl.DateTimeFormat(INTL_LOCALE[locale], {
            year: 'numeric',
            month: 'long',
            day: 'numeric',
            hour: '2-digit',
            minute: '2-digit',
            timeZone: TIME_ZONE,
            timeZoneName: 'short',
          })
    dateFormats.set(key, format)
  }
  return format
}

/** A calendar date stored as YYYY-MM-DD: 1990年1月31日 / 31 January 1990. */
export function formatDate(locale: Locale, isoDate: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate)
  if (!match) return isoDate
  return formatter(locale, 'date').format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))))
}

/** A moment: 2026年11月28日 14:05 JST / 28 November 2026 at 14:05 GMT+9. */
export function formatDateTime(locale: Locale, moment: Date): string {
  return formatter(locale, 'dateTime').format(moment)
}

/** male and female are translated; a gender in the user's own words is shown as written. */
export function formatGender(locale: Locale, gender: string): string {
  if (gender === 'male') return translate(locale, 'gender.male')
  if (gender === 'female') return translate(locale, 'gender.female')
  return gender
}

const regionNames = new Map<Locale, Intl.DisplayNames>()
/** A country's name from its ISO 3166-1 code, in the page's language. */
export function countryName(locale: Locale, code: string): string {
  let names = regionNames.get(locale)
  if (!names) regionNames.set(locale, (names = new Intl.DisplayNames([INTL_LOCALE[locale]], { type: 'region' })))
  try {
    return names.of(code) ?? code
  } catch {
    return code
  }
}

/** A postal code as people write it: a Japanese one as 102-8282 (stored as 1028282). */
export function formatPostalCode(postalCode: string, country: string): string {
  return country === 'JP' && /^\d{7}$/.test(postalCode) ? `${postalCode.slice(0, 3)}-${postalCode.slice(3)}` : postalCode
}

/**
 * An address in the local order. Japanese: 〒postal code, prefecture, city, street (country last
 * when abroad). English: street, city, prefecture, postal code, country.
 */
export function formatAddress(locale: Locale, address: Address): string {
  const postal = formatPostalCode(address.postalCode, address.country)
  if (locale === 'ja') {
    if (address.country === 'JP') return `〒${postal} ${address.region}${address.locality}${address.streetAddress}`
    return `${countryName(locale, address.country)} ${postal} ${address.region} ${address.locality} ${address.streetAddress}`
  }
  return `${address.streetAddress}, ${address.locality}, ${address.region} ${postal}, ${countryName(locale, address.country)}`
}

/**
 * A stored E.164 phone number as people write it: Japanese numbers in the national format
 * (090-1234-5678), others internationally (+1 650 253 0000). Tokens keep E.164.
 */
export function formatPhone(e164: string): string {
  const phone = parsePhoneNumberFromString(e164)
  if (!phone) return e164
  return phone.country === 'JP' ? phone.formatNational() : phone.formatInternational()
}
