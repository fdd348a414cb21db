// The Profile+ item registry: one entry per item the user registers once and shares per channel
// with consent. Each entry says everything about its item — the scope that asks for it, where it
// lives in ProfilePlus, its label, its form fields (name = claim name, the profiles column that
// stores it, presentation), how its columns, claims and form text map to the value, its
// validation and how a page shows it. Everything else derives its lists from here, so a new item
// is one entry (plus its migration and its catalogue texts).
//
// Sealing: every column named here is encrypted at rest under the current data key, with
// `profiles.<column>:<user id>` as associated data (see profileValueAad), and `plusid keys
// rotate-data` re-encrypts exactly these columns.
import type { z } from 'zod'
import type { ProfileItemName, ProfilePlus } from '../domain/profile.ts'
import { formatAddress, formatDate, formatGender, formatPhone, formatPostalCode } from '../i18n/format.ts'
import type { Locale, Message, MessageKey } from '../i18n/index.ts'
import type { ProfilesTable } from '../storage/schema.ts'
import { isPrefecture } from './prefectures.ts'
import * as rules from './rules.ts'

export type { Address, ProfilePlus, RealName } from '../domain/profile.ts'

/** A column of `profiles` that holds a Profile+ value (sealed). */
export type ProfileColumn = Exclude<keyof ProfilesTable, 'user_id' | 'updated_at'>

/** Opened (decrypted) column values; null is an empty column. */
export type ProfileColumnValues = Record<ProfileColumn, string | null>

export interface FieldDefinition<Name extends string = string, Column extends ProfileColumn = ProfileColumn> {
  /** The form field's name: the claim name, an address member written `address.postal_code`. */
  name: Name
  /** The profiles column that stores it. */
  column: Column
  label: MessageKey
  hint?: MessageKey
  type?: string
  autocomplete?: string
  inputmode?: string
  /** A <datalist> of suggestions. */
  list?: string
  /** May stay empty while the rest of the item is filled in. */
  optional?: boolean
}

/** What an item's `parse` gets from the form validation. */
export interface FieldCheck<Name extends string = string> {
  /** The field's text through `schema`; undefined after recording why not (required, invalid, …). */
  check<T>(field: Name, schema: z.ZodType<T, unknown>): T | undefined
  filled(field: Name): boolean
  fail(field: Name, message: Message): void
  now: () => Date
}

// Members are written as methods (not function properties) so that every entry is also an
// ItemDefinition of the whole ProfilePlus, which is how the generic code below handles them.
export interface ItemDefinition<
  Key extends keyof ProfilePlus = keyof ProfilePlus,
  Name extends string = string,
  Column extends ProfileColumn = ProfileColumn,
> {
  /** Where the value lives in ProfilePlus. */
  key: Key
  /** The item's name on pages (consent, editor, account, review). */
  label: MessageKey
  fields: readonly FieldDefinition<Name, Column>[]
  fromColumns(columns: ProfileColumnValues): ProfilePlus[Key]
  /** Every column of the item; all null when the value is null (the item is cleared). */
  toColumns(value: ProfilePlus[Key]): Partial<ProfileColumnValues>
  /** The value under its claim names, as the export and the CLI's --profile file hold it. */
  toClaims(value: NonNullable<ProfilePlus[Key]>): Record<string, unknown>
  /** The editor's text for each field. */
  toForm(value: ProfilePlus[Key]): Record<Name, string>
  /** The value from a filled-in form, or undefined when a field failed (its failure recorded). */
  parse(fields: FieldCheck<Name>): NonNullable<ProfilePlus[Key]> | undefined
  /** The value as one line of text in the page's language. */
  describe(locale: Locale, value: NonNullable<ProfilePlus[Key]>): string
}

function defineItem<Key extends keyof ProfilePlus, const Name extends string, const Column extends ProfileColumn>(
  definition: ItemDefinition<Key, Name, Column>,
): ItemDefinition<Key, Name, Column> {
  return definition
}

export const PROFILE_ITEM_DEFINITIONS = {
  real_name: defineItem({
    key: 'realName',
    label: 'item.real_name',
    fields: [
      { name: 'family_name', column: 'family_name', label: 'field.family_name', autocomplete: 'family-name' },
      { name: 'given_name', column: 'given_name', label: 'field.given_name', autocomplete: 'given-name' },
      { name: 'middle_name', column: 'middle_name', label: 'field.middle_name', autocomplete: 'additional-name', optional: true },
      {
        name: 'family_name_pronunciation',
        column: 'family_name_pronunciation',
        label: 'field.family_name_pronunciation',
        hint: 'hint.family_name_pronunciation',
      },
      {
        name: 'given_name_pronunciation',
        column: 'given_name_pronunciation',
        label: 'field.given_name_pronunciation',
        hint: 'hint.given_name_pronunciation',
      },
    ],
    fromColumns: (c) =>
      c.family_name !== null && c.given_name !== null && c.family_name_pronunciation !== null && c.given_name_pronunciation !== null
        ? {
            familyName: c.family_name,
            givenName: c.given_name,
            middleName: c.middle_name,
            familyNamePronunciation: c.family_name_pronunciation,
            givenNamePronunciation: c.given_name_pronunciation,
          }
        : null,
    toColumns: (name) => ({
      family_name: name?.familyName ?? null,
      given_name: name?.givenName ?? null,
      middle_name: name?.middleName ?? null,
      family_name_pronunciation: name?.familyNamePronunciation ?? null,
      given_name_pronunciation: name?.givenNamePronunciation ?? null,
    }),
    toClaims: (name) => ({
      family_name: name.familyName,
      given_name: name.givenName,
      family_name_pronunciation: name.familyNamePronunciation,
      given_name_pronunciation: name.givenNamePronunciation,
      ...(name.middleName ? { middle_name: name.middleName } : {}),
    }),
    toForm: (name) => ({
      family_name: name?.familyName ?? '',
      given_name: name?.givenName ?? '',
      middle_name: name?.middleName ?? '',
      family_name_pronunciation: name?.familyNamePronunciation ?? '',
      given_name_pronunciation: name?.givenNamePronunciation ?? '',
    }),
    parse: ({ check, filled }) => {
      const familyName = check('family_name', rules.text(64))
      const givenName = check('given_name', rules.text(64))
      const middleName = filled('middle_name') ? check('middle_name', rules.text(64)) : null
      const familyNamePronunciation = check('family_name_pronunciation', rules.pronunciation)
      const givenNamePronunciation = check('given_name_pronunciation', rules.pronunciation)
      if (familyName && givenName && middleName !== undefined && familyNamePronunciation && givenNamePronunciation) {
        return { familyName, givenName, middleName, familyNamePronunciation, givenNamePronunciation }
      }
      return undefined
    },
    describe: (_locale, name) => {
      const written = [name.familyName, name.middleName, name.givenName].filter(Boolean).join(' ')
      return `${written} (${name.familyNamePronunciation} ${name.givenNamePronunciation})`
    },
  }),

  gender: defineItem({
    key: 'gender',
    label: 'item.gender',
    fields: [{ name: 'gender', column: 'gender', label: 'field.gender', list: 'gender-options', hint: 'hint.gender' }],
    fromColumns: (c) => c.gender,
    toColumns: (gender) => ({ gender }),
    toClaims: (gender) => ({ gender }),
    toForm: (gender) => ({ gender: gender ?? '' }),
    parse: ({ check }) => check('gender', rules.gender) || undefined,
    describe: (locale, gender) => formatGender(locale, gender),
  }),

  birthdate: defineItem({
    key: 'birthdate',
    label: 'item.birthdate',
    fields: [
      { name: 'birthdate', column: 'birthdate', label: 'field.birthdate', type: 'date', autocomplete: 'bday', hint: 'hint.birthdate' },
    ],
    fromColumns: (c) => c.birthdate,
    toColumns: (birthdate) => ({ birthdate }),
    toClaims: (birthdate) => ({ birthdate }),
    toForm: (birthdate) => ({ birthdate: birthdate ?? '' }),
    parse: ({ check, now }) => check('birthdate', rules.birthdate(now)) || undefined,
    describe: (locale, birthdate) => formatDate(locale, birthdate),
  }),

  phone: defineItem({
    key: 'phoneNumber',
    label: 'item.phone',
    fields: [
      {
        name: 'phone_number',
        column: 'phone_number',
        label: 'field.phone_number',
        type: 'tel',
        autocomplete: 'tel',
        inputmode: 'tel',
        hint: 'hint.phone_number',
      },
    ],
    fromColumns: (c) => c.phone_number,
    toColumns: (phoneNumber) => ({ phone_number: phoneNumber }),
    // Stored and released as E.164; shown as people write it.
    toClaims: (phoneNumber) => ({ phone_number: phoneNumber }),
    toForm: (phoneNumber) => ({ phone_number: phoneNumber ? formatPhone(phoneNumber) : '' }),
    parse: ({ check }) => check('phone_number', rules.phoneNumber) || undefined,
    describe: (_locale, phoneNumber) => formatPhone(phoneNumber),
  }),

  address: defineItem({
    key: 'address',
    label: 'item.address',
    fields: [
      {
        name: 'address.postal_code',
        column: 'postal_code',
        label: 'field.address.postal_code',
        autocomplete: 'postal-code',
        inputmode: 'numeric',
        hint: 'hint.address.postal_code',
      },
      {
        name: 'address.region',
        column: 'region',
        label: 'field.address.region',
        autocomplete: 'address-level1',
        hint: 'hint.address.regionText',
      },
      { name: 'address.locality', column: 'locality', label: 'field.address.locality', autocomplete: 'address-level2' },
      { name: 'address.street_address', column: 'street_address', label: 'field.address.street_address', autocomplete: 'street-address' },
      { name: 'address.country', column: 'country', label: 'field.address.country', autocomplete: 'country', hint: 'hint.address.country' },
    ],
    fromColumns: (c) =>
      c.postal_code !== null && c.region !== null && c.locality !== null && c.street_address !== null && c.country !== null
        ? { postalCode: c.postal_code, region: c.region, locality: c.locality, streetAddress: c.street_address, country: c.country }
        : null,
    toColumns: (address) => ({
      postal_code: address?.postalCode ?? null,
      region: address?.region ?? null,
      locality: address?.locality ?? null,
      street_address: address?.streetAddress ?? null,
      country: address?.country ?? null,
    }),
    // OIDC Core §5.1.1: the address claim is one JSON object.
    toClaims: (address) => ({
      address: {
        postal_code: address.postalCode,
        region: address.region,
        locality: address.locality,
        street_address: address.streetAddress,
        country: address.country,
      },
    }),
    toForm: (address) => ({
      'address.postal_code': address ? formatPostalCode(address.postalCode, address.country) : '',
      'address.region': address?.region ?? '',
      'address.locality': address?.locality ?? '',
      'address.street_address': address?.streetAddress ?? '',
      'address.country': address?.country ?? 'JP',
    }),
    parse: ({ check, filled, fail }) => {
      // Most users are in Japan: an address without a country is a Japanese one.
      const country = filled('address.country') ? check('address.country', rules.country) : 'JP'
      const postalCode = country ? check('address.postal_code', rules.postalCode(country)) : undefined
      const region = check('address.region', rules.text(128))
      // The editor offers the prefectures while the country is JP (without a script it cannot
      // switch as the country is typed): a prefecture with another country is that slip.
      const regionAbroad = Boolean(region && country && country !== 'JP' && isPrefecture(region))
      if (regionAbroad) fail('address.region', { key: 'error.regionAbroad' })
      const locality = check('address.locality', rules.text(128))
      const streetAddress = check('address.street_address', rules.text(128))
      if (country && postalCode && region && !regionAbroad && locality && streetAddress) {
        return { postalCode, region, locality, streetAddress, country }
      }
      return undefined
    },
    describe: (locale, address) => formatAddress(locale, address),
  }),
  // One entry per name of domain/profile.ts, which the layers below the registry use.
} satisfies Record<ProfileItemName, unknown>

/** The Profile+ scopes: data held in the profile (email, the other data item, lives on the account). */
export type ProfileItem = keyof typeof PROFILE_ITEM_DEFINITIONS
export const PROFILE_ITEMS = Object.keys(PROFILE_ITEM_DEFINITIONS) as readonly ProfileItem[]

/** The form fields of one item, by name. */
export type ItemFieldName<Item extends ProfileItem> = (typeof PROFILE_ITEM_DEFINITIONS)[Item]['fields'][number]['name']

/** One item's entry, seen through the shape every entry shares. */
export function profileItem(item: ProfileItem): ItemDefinition {
  return PROFILE_ITEM_DEFINITIONS[item] as ItemDefinition
}

/** Every Profile+ column, item by item: each is sealed, and data-key rotation re-encrypts them. */
export const PROFILE_COLUMNS: readonly ProfileColumn[] = PROFILE_ITEMS.flatMap((item) =>
  profileItem(item).fields.map((field) => field.column),
)

/** The associated data a Profile+ value is sealed with: it cannot be moved to another column or user. */
export function profileValueAad(userId: string, column: ProfileColumn): string {
  return `profiles.${column}:${userId}`
}

// A profiles column that no item claims would be neither shown, exported nor re-encrypted by a
// key rotation: after `npm run db:types`, such a column fails the type check here.
type Unclaimed = Exclude<ProfileColumn, (typeof PROFILE_ITEM_DEFINITIONS)[ProfileItem]['fields'][number]['column']>
const everyColumnHasAnItem: [Unclaimed] extends [never] ? true : Unclaimed = true
void everyColumnHasAnItem
