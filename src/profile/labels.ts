// What people read for each Profile+ item and field, and how a stored value is shown, in the
// page's language (src/i18n).
import { formatAddress, formatDate, formatGender, formatPhone } from '../i18n/format.ts'
import { translate, type Locale, type MessageKey } from '../i18n/index.ts'
import { PREFECTURES } from './prefectures.ts'
import type { ProfileField, ProfileItem, ProfilePlus } from './profile.ts'

export const ITEM_LABEL_KEYS: Record<ProfileItem | 'email' | 'openid' | 'profile', MessageKey> = {
  email: 'item.email',
  real_name: 'item.real_name',
  gender: 'item.gender',
  birthdate: 'item.birthdate',
  phone: 'item.phone',
  address: 'item.address',
  openid: 'item.openid',
  profile: 'item.profile',
}

/** An item's (or a required scope's) name; an unknown one is shown as it is. */
export function itemLabel(locale: Locale, item: string): string {
  const key = ITEM_LABEL_KEYS[item as keyof typeof ITEM_LABEL_KEYS]
  return key ? translate(locale, key) : item
}

interface FieldPresentation {
  label: MessageKey
  type?: string
  autocomplete?: string
  inputmode?: string
  hint?: MessageKey
  list?: string
  optional?: boolean
}

const FIELD_PRESENTATION: Record<ProfileField, FieldPresentation> = {
  family_name: { label: 'field.family_name', autocomplete: 'family-name' },
  given_name: { label: 'field.given_name', autocomplete: 'given-name' },
  middle_name: { label: 'field.middle_name', autocomplete: 'additional-name', optional: true },
  family_name_pronunciation: { label: 'field.family_name_pronunciation', hint: 'hint.family_name_pronunciation' },
  given_name_pronunciation: { label: 'field.given_name_pronunciation', hint: 'hint.given_name_pronunciation' },
  gender: { label: 'field.gender', list: 'gender-options', hint: 'hint.gender' },
  birthdate: { label: 'field.birthdate', type: 'date', autocomplete: 'bday', hint: 'hint.birthdate' },
  phone_number: { label: 'field.phone_number', type: 'tel', autocomplete: 'tel', inputmode: 'tel', hint: 'hint.phone_number' },
  'address.postal_code': { label: 'field.address.postal_code', autocomplete: 'postal-code', inputmode: 'numeric', hint: 'hint.address.postal_code' },
  'address.region': { label: 'field.address.region', autocomplete: 'address-level1', hint: 'hint.address.regionText' },
  'address.locality': { label: 'field.address.locality', autocomplete: 'address-level2' },
  'address.street_address': { label: 'field.address.street_address', autocomplete: 'street-address' },
  'address.country': { label: 'field.address.country', autocomplete: 'country', hint: 'hint.address.country' },
}

export const FORM_FIELDS = Object.keys(FIELD_PRESENTATION) as ProfileField[]

/**
 * One form field of the editor or the consent page, as field.eta takes it. The prefecture is a
 * <select> of the 47 prefectures while the form's country is JP (free text otherwise); a stored
 * region that is not one of them stays as an option, so nothing is lost by saving.
 */
export function profileField(locale: Locale, field: ProfileField, value: string, error: string | undefined, country: string) {
  const presentation = FIELD_PRESENTATION[field]
  const base = {
    name: field,
    value: field === 'gender' && (value === 'male' || value === 'female') ? formatGender(locale, value) : value,
    error,
    type: presentation.type,
    autocomplete: presentation.autocomplete,
    inputmode: presentation.inputmode,
    list: presentation.list,
    optional: presentation.optional,
    label: translate(locale, presentation.label),
    hint: presentation.hint ? translate(locale, presentation.hint) : undefined,
  }
  if (field === 'address.region' && inJapan(country)) {
    const options: string[] = [...PREFECTURES]
    if (value && !options.includes(value)) options.push(value)
    return { ...base, options, placeholder: translate(locale, 'profile.choosePrefecture'), hint: translate(locale, 'hint.address.region') }
  }
  return base
}

/** The country a form is about: empty (the default) and any spelling of JP mean Japan. */
export function inJapan(country: string): boolean {
  const code = country.normalize('NFKC').trim().toUpperCase()
  return code === '' || code === 'JP'
}

/** The gender suggestions of the editor's text field, in the page's language. */
export function genderOptions(locale: Locale): string[] {
  return [formatGender(locale, 'female'), formatGender(locale, 'male')]
}

/** The stored value of an item as one line of text in the page's language, or null when it is not registered. */
export function describeItem(locale: Locale, profile: ProfilePlus, item: ProfileItem): string | null {
  switch (item) {
    case 'real_name': {
      const name = profile.realName
      if (!name) return null
      const written = [name.familyName, name.middleName, name.givenName].filter(Boolean).join(' ')
      return `${written} (${name.familyNamePronunciation} ${name.givenNamePronunciation})`
    }
    case 'gender':
      return profile.gender && formatGender(locale, profile.gender)
    case 'birthdate':
      return profile.birthdate && formatDate(locale, profile.birthdate)
    case 'phone':
      return profile.phoneNumber && formatPhone(profile.phoneNumber)
    case 'address':
      return profile.address && formatAddress(locale, profile.address)
  }
}
