// What people read for each Profile+ item and field, and how a stored value is shown, in the
// page's language (src/i18n). The items' labels, fields and formats come from the registry.
import { formatGender } from '../i18n/format.ts'
import { translate, type Locale, type MessageKey } from '../i18n/index.ts'
import { PROFILE_ITEMS, profileItem, type FieldDefinition, type ProfileItem, type ProfilePlus } from './items.ts'
import { PREFECTURES } from './prefectures.ts'
import type { ProfileField } from './profile.ts'

export const ITEM_LABEL_KEYS: Record<ProfileItem | 'email' | 'openid' | 'profile', MessageKey> = {
  email: 'item.email',
  ...(Object.fromEntries(PROFILE_ITEMS.map((item) => [item, profileItem(item).label])) as Record<ProfileItem, MessageKey>),
  openid: 'item.openid',
  profile: 'item.profile',
}

/** An item's (or a required scope's) name; an unknown one is shown as it is. */
export function itemLabel(locale: Locale, item: string): string {
  const key = ITEM_LABEL_KEYS[item as keyof typeof ITEM_LABEL_KEYS]
  return key ? translate(locale, key) : item
}

const FIELD_PRESENTATION = new Map<string, FieldDefinition>(
  PROFILE_ITEMS.flatMap((item) => profileItem(item).fields.map((field) => [field.name, field])),
)

export const FORM_FIELDS = [...FIELD_PRESENTATION.keys()] as ProfileField[]

/**
 * One form field of the editor or the consent page, as field.eta takes it. The prefecture is a
 * <select> of the 47 prefectures while the form's country is JP (free text otherwise); a stored
 * region that is not one of them stays as an option, so nothing is lost by saving.
 */
export function profileField(locale: Locale, field: ProfileField, value: string, error: string | undefined, country: string) {
  const presentation = FIELD_PRESENTATION.get(field)!
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
  const definition = profileItem(item)
  const value = profile[definition.key]
  return value === null ? null : definition.describe(locale, value)
}
