// Profile+ shapes every layer shares (the bottom layer: it imports nothing). The item registry
// (profile/items.ts) has one entry per name below; the compiler checks that they agree.

/** The Profile+ items, by the scope that asks for each. */
export const PROFILE_ITEM_NAMES = ['real_name', 'gender', 'birthdate', 'phone', 'address'] as const
export type ProfileItemName = (typeof PROFILE_ITEM_NAMES)[number]

/** Items a user may uncheck on the consent page, and a channel needs a permission for. */
export const DATA_ITEMS = ['email', ...PROFILE_ITEM_NAMES] as const
export type DataItem = (typeof DATA_ITEMS)[number]

export function isDataItem(scope: string): scope is DataItem {
  return (DATA_ITEMS as readonly string[]).includes(scope)
}

export interface RealName {
  familyName: string
  givenName: string
  middleName: string | null
  familyNamePronunciation: string
  givenNamePronunciation: string
}

export interface Address {
  postalCode: string
  region: string
  locality: string
  streetAddress: string
  country: string
}

/** A null item is one the user has not registered. */
export interface ProfilePlus {
  realName: RealName | null
  gender: string | null
  birthdate: string | null
  phoneNumber: string | null
  address: Address | null
}

export const EMPTY_PROFILE: ProfilePlus = Object.freeze({ realName: null, gender: null, birthdate: null, phoneNumber: null, address: null })
