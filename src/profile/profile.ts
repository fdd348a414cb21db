// Profile+ data: the items a user registers once and shares per channel with consent
// (docs/profile-claims.md), how they map to form fields and claim names, and the validation of a form.
import type { z } from 'zod'
import { formatPhone, formatPostalCode } from '../i18n/format.ts'
import { issueMessage, type Message } from '../i18n/index.ts'
import { isPrefecture } from './prefectures.ts'
import * as rules from './rules.ts'

/** The Profile+ scopes that carry data held in the profile (email lives on the account). */
export const PROFILE_ITEMS = ['real_name', 'gender', 'birthdate', 'phone', 'address'] as const
export type ProfileItem = (typeof PROFILE_ITEMS)[number]

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

/**
 * Form field names per item. They are the claim names (docs/profile-claims.md), with the address's members
 * written `address.postal_code`; the account editor and the consent page's fill-in fields share them.
 */
export const ITEM_FIELDS = {
  real_name: ['family_name', 'given_name', 'middle_name', 'family_name_pronunciation', 'given_name_pronunciation'],
  gender: ['gender'],
  birthdate: ['birthdate'],
  phone: ['phone_number'],
  address: ['address.postal_code', 'address.region', 'address.locality', 'address.street_address', 'address.country'],
} as const satisfies Record<ProfileItem, readonly string[]>

export type ProfileField = (typeof ITEM_FIELDS)[ProfileItem][number]
export const PROFILE_FIELDS: readonly ProfileField[] = PROFILE_ITEMS.flatMap((item) => ITEM_FIELDS[item])

/** Raw text per field, as a form shows it. */
export type ProfileForm = Partial<Record<ProfileField, string>>

/** English text per field: the CLI's `--profile` file problems. */
export type FieldErrors = Partial<Record<string, string>>

/** A message per field, translated where the page's language is known. */
export type ProfileErrors = Partial<Record<string, Message>>

export type ProfileValidation =
  | { ok: true; profile: Partial<ProfilePlus> }
  | { ok: false; errors: ProfileErrors; form: ProfileForm }

/**
 * Validates the fields of the given items. An item whose fields are all empty is cleared (null);
 * an item partly filled in gets "is required" on its missing fields. Nothing is returned unless
 * every field is valid, so a caller can never save half of a form.
 */
export function validateProfileForm(input: Record<string, unknown>, items: readonly ProfileItem[], now: () => Date = () => new Date()): ProfileValidation {
  const errors: ProfileErrors = {}
  const form: ProfileForm = {}
  for (const item of items) {
    for (const field of ITEM_FIELDS[item]) {
      const value = input[field]
      if (value === undefined || value === null) continue
      if (typeof value === 'string') form[field] = value
      else errors[field] = { key: 'error.once' }
    }
  }
  const filled = (field: ProfileField) => (form[field] ?? '').trim() !== ''
  const check = <T>(field: ProfileField, schema: z.ZodType<T, unknown>): T | undefined => {
    if (errors[field]) return undefined
    if (!filled(field)) {
      errors[field] = { key: 'error.required' }
      return undefined
    }
    const result = schema.safeParse(form[field])
    if (result.success) return result.data
    const issue = result.error.issues[0]
    errors[field] = issue ? issueMessage(issue) : { key: 'error.invalid' }
    return undefined
  }

  const profile: Partial<ProfilePlus> = {}
  for (const item of items) {
    if (!ITEM_FIELDS[item].some(filled) && !ITEM_FIELDS[item].some((field) => errors[field])) {
      profile[itemKey(item)] = null
      continue
    }
    switch (item) {
      case 'real_name': {
        const familyName = check('family_name', rules.text(64))
        const givenName = check('given_name', rules.text(64))
        const middleName = filled('middle_name') ? check('middle_name', rules.text(64)) : null
        const familyNamePronunciation = check('family_name_pronunciation', rules.pronunciation)
        const givenNamePronunciation = check('given_name_pronunciation', rules.pronunciation)
        if (familyName && givenName && middleName !== undefined && familyNamePronunciation && givenNamePronunciation) {
          profile.realName = { familyName, givenName, middleName, familyNamePronunciation, givenNamePronunciation }
        }
        break
      }
      case 'gender': {
        const gender = check('gender', rules.gender)
        if (gender) profile.gender = gender
        break
      }
      case 'birthdate': {
        const birthdate = check('birthdate', rules.birthdate(now))
        if (birthdate) profile.birthdate = birthdate
        break
      }
      case 'phone': {
        const phoneNumber = check('phone_number', rules.phoneNumber)
        if (phoneNumber) profile.phoneNumber = phoneNumber
        break
      }
      case 'address': {
        // Most users are in Japan: an address without a country is a Japanese one.
        const country = filled('address.country') ? check('address.country', rules.country) : 'JP'
        const postalCode = country ? check('address.postal_code', rules.postalCode(country)) : undefined
        const region = check('address.region', rules.text(128))
        // The editor offers the prefectures while the country is JP (without a script it cannot
        // switch as the country is typed): a prefecture with another country is that slip.
        if (region && country && country !== 'JP' && isPrefecture(region)) errors['address.region'] = { key: 'error.regionAbroad' }
        const locality = check('address.locality', rules.text(128))
        const streetAddress = check('address.street_address', rules.text(128))
        if (country && postalCode && region && locality && streetAddress) {
          profile.address = { postalCode, region, locality, streetAddress, country }
        }
        break
      }
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors, form } : { ok: true, profile }
}

function itemKey(item: ProfileItem): keyof ProfilePlus {
  switch (item) {
    case 'real_name':
      return 'realName'
    case 'gender':
      return 'gender'
    case 'birthdate':
      return 'birthdate'
    case 'phone':
      return 'phoneNumber'
    case 'address':
      return 'address'
  }
}

/** The stored profile as form text, for the editor's initial values. */
export function profileToForm(profile: ProfilePlus): ProfileForm {
  const { realName, address } = profile
  return {
    family_name: realName?.familyName ?? '',
    given_name: realName?.givenName ?? '',
    middle_name: realName?.middleName ?? '',
    family_name_pronunciation: realName?.familyNamePronunciation ?? '',
    given_name_pronunciation: realName?.givenNamePronunciation ?? '',
    gender: profile.gender ?? '',
    birthdate: profile.birthdate ?? '',
    phone_number: profile.phoneNumber ? formatPhone(profile.phoneNumber) : '',
    'address.postal_code': address ? formatPostalCode(address.postalCode, address.country) : '',
    'address.region': address?.region ?? '',
    'address.locality': address?.locality ?? '',
    'address.street_address': address?.streetAddress ?? '',
    'address.country': address?.country ?? 'JP',
  }
}

/**
 * Claims as a JSON document holds them (docs/profile-claims.md's `--profile` file: `address` an object) to
 * form fields, so the file is validated by the same rules as the editor. Unknown keys are errors.
 */
export function claimsToForm(claims: Record<string, unknown>): { form: Record<string, unknown>; errors: FieldErrors } {
  const form: Record<string, unknown> = {}
  const errors: FieldErrors = {}
  for (const [key, value] of Object.entries(claims)) {
    if (key === 'address') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors.address = 'must be an object with postal_code, region, locality, street_address and country'
        continue
      }
      for (const [member, memberValue] of Object.entries(value)) {
        const field = `address.${member}`
        if ((ITEM_FIELDS.address as readonly string[]).includes(field)) form[field] = memberValue
        else errors[field] = 'is not an address member (postal_code, region, locality, street_address, country)'
      }
    } else if ((PROFILE_FIELDS as readonly string[]).includes(key)) {
      form[key] = value
    } else {
      errors[key] = 'is not a Profile+ claim'
    }
  }
  return { form, errors }
}

/** Registered Profile+ values as claims (the names of docs/profile-claims.md), for the export. */
export function profileToClaims(profile: ProfilePlus): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  const { realName, address } = profile
  if (realName) {
    Object.assign(claims, { family_name: realName.familyName, given_name: realName.givenName, family_name_pronunciation: realName.familyNamePronunciation, given_name_pronunciation: realName.givenNamePronunciation })
    if (realName.middleName) claims.middle_name = realName.middleName
  }
  if (profile.gender) claims.gender = profile.gender
  if (profile.birthdate) claims.birthdate = profile.birthdate
  if (profile.phoneNumber) claims.phone_number = profile.phoneNumber
  if (address) claims.address = { postal_code: address.postalCode, region: address.region, locality: address.locality, street_address: address.streetAddress, country: address.country }
  return claims
}
