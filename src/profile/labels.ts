// What people read for each Profile+ item and field, and how a stored value is shown.
import type { ProfileField, ProfileItem, ProfilePlus } from './profile.ts'

export const ITEM_LABELS: Record<ProfileItem | 'email', string> = {
  email: 'Email',
  real_name: 'Name',
  gender: 'Gender',
  birthdate: 'Birthdate',
  phone: 'Phone number',
  address: 'Address',
}

export interface FieldPresentation {
  label: string
  type?: string
  autocomplete?: string
  inputmode?: string
  hint?: string
  list?: string
  optional?: boolean
}

export const FIELD_PRESENTATION: Record<ProfileField, FieldPresentation> = {
  family_name: { label: 'Family name', autocomplete: 'family-name' },
  given_name: { label: 'Given name', autocomplete: 'given-name' },
  middle_name: { label: 'Middle name', autocomplete: 'additional-name', optional: true },
  family_name_pronunciation: { label: 'Family name (katakana)', hint: 'Full-width katakana, e.g. ヤマダ' },
  given_name_pronunciation: { label: 'Given name (katakana)', hint: 'Full-width katakana, e.g. ハナコ' },
  gender: { label: 'Gender', list: 'gender-options', hint: 'female, male, or your own words' },
  birthdate: { label: 'Birthdate', type: 'date', autocomplete: 'bday', hint: 'YYYY-MM-DD' },
  phone_number: { label: 'Phone number', type: 'tel', autocomplete: 'tel', inputmode: 'tel', hint: 'e.g. 090-1234-5678 or +81 90 1234 5678' },
  'address.postal_code': { label: 'Postal code', autocomplete: 'postal-code', inputmode: 'numeric', hint: 'e.g. 102-8282' },
  'address.region': { label: 'Prefecture / region', autocomplete: 'address-level1' },
  'address.locality': { label: 'City', autocomplete: 'address-level2' },
  'address.street_address': { label: 'Street address', autocomplete: 'street-address' },
  'address.country': { label: 'Country code', autocomplete: 'country', hint: 'Two letters, e.g. JP' },
}

/** The stored value of an item as one line of text, or null when it is not registered. */
export function describeItem(profile: ProfilePlus, item: ProfileItem): string | null {
  switch (item) {
    case 'real_name': {
      const name = profile.realName
      if (!name) return null
      const written = [name.familyName, name.middleName, name.givenName].filter(Boolean).join(' ')
      return `${written} (${name.familyNamePronunciation} ${name.givenNamePronunciation})`
    }
    case 'gender':
      return profile.gender
    case 'birthdate':
      return profile.birthdate
    case 'phone':
      return profile.phoneNumber
    case 'address': {
      const a = profile.address
      if (!a) return null
      const postal = a.country === 'JP' ? `〒${a.postalCode.slice(0, 3)}-${a.postalCode.slice(3)}` : a.postalCode
      return `${postal} ${a.region} ${a.locality} ${a.streetAddress} (${a.country})`
    }
  }
}
