// Profile+ data as forms and documents hold it: the validation of a form, the editor's text,
// and claims in and out. Every list here comes from the item registry (items.ts).
import type { z } from 'zod'
import { issueMessage, type Message } from '../i18n/index.ts'
import { PROFILE_ITEMS, profileItem, type FieldCheck, type ItemFieldName, type ProfileItem, type ProfilePlus } from './items.ts'

export { PROFILE_ITEMS, type Address, type ProfileItem, type ProfilePlus, type RealName } from './items.ts'

export { EMPTY_PROFILE } from '../domain/profile.ts'

/**
 * Form field names per item. They are the claim names (docs/profile-claims.md), with the address's members
 * written `address.postal_code`; the account editor and the consent page's fill-in fields share them.
 */
export const ITEM_FIELDS = Object.fromEntries(
  PROFILE_ITEMS.map((item) => [item, profileItem(item).fields.map((field) => field.name)]),
) as unknown as {
  // Every item has at least one field: its first names the item in messages about it as a whole.
  readonly [Item in ProfileItem]: readonly [ItemFieldName<Item>, ...ItemFieldName<Item>[]]
}

export type ProfileField = ItemFieldName<ProfileItem>
export const PROFILE_FIELDS: readonly ProfileField[] = PROFILE_ITEMS.flatMap((item) => ITEM_FIELDS[item])

/** Raw text per field, as a form shows it. */
export type ProfileForm = Partial<Record<ProfileField, string>>

/** English text per field: the CLI's `--profile` file problems. */
export type FieldErrors = Partial<Record<string, string>>

/** A message per field, translated where the page's language is known. */
export type ProfileErrors = Partial<Record<string, Message>>

export type ProfileValidation = { ok: true; profile: Partial<ProfilePlus> } | { ok: false; errors: ProfileErrors; form: ProfileForm }

/**
 * Validates the fields of the given items. An item whose fields are all empty is cleared (null);
 * an item partly filled in gets "is required" on its missing fields. Nothing is returned unless
 * every field is valid, so a caller can never save half of a form.
 */
export function validateProfileForm(
  input: Record<string, unknown>,
  items: readonly ProfileItem[],
  now: () => Date = () => new Date(),
): ProfileValidation {
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
  const filled = (field: string) => (form[field as ProfileField] ?? '').trim() !== ''
  const check = <T>(field: string, schema: z.ZodType<T, unknown>): T | undefined => {
    if (errors[field]) return undefined
    if (!filled(field)) {
      errors[field] = { key: 'error.required' }
      return undefined
    }
    const result = schema.safeParse(form[field as ProfileField])
    if (result.success) return result.data
    const issue = result.error.issues[0]
    errors[field] = issue ? issueMessage(issue) : { key: 'error.invalid' }
    return undefined
  }

  const fields: FieldCheck = { check, filled, fail: (field, message) => void (errors[field] = message), now }
  const profile: Partial<ProfilePlus> = {}
  for (const item of items) {
    const definition = profileItem(item)
    const names = definition.fields.map((field) => field.name)
    if (!names.some(filled) && !names.some((field) => errors[field])) {
      profile[definition.key] = null
      continue
    }
    const value = definition.parse(fields)
    if (value !== undefined) Object.assign(profile, { [definition.key]: value })
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors, form } : { ok: true, profile }
}

/** The stored profile as form text, for the editor's initial values. */
export function profileToForm(profile: ProfilePlus): ProfileForm {
  return Object.assign({}, ...PROFILE_ITEMS.map((item) => profileItem(item).toForm(profile[profileItem(item).key])))
}

/**
 * Claims as a JSON document holds them (docs/profile-claims.md's `--profile` file: `address` an object) to
 * form fields, so the file is validated by the same rules as the editor. Unknown keys are errors.
 */
export function claimsToForm(claims: Record<string, unknown>): { form: Record<string, unknown>; errors: FieldErrors } {
  const form: Record<string, unknown> = {}
  const errors: FieldErrors = {}
  for (const [key, value] of Object.entries(claims)) {
    // A claim whose fields are written `key.member` (the address) is an object of those members.
    const members = PROFILE_FIELDS.filter((field) => field.startsWith(`${key}.`)).map((field) => field.slice(key.length + 1))
    if (members.length > 0) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors[key] = `must be an object with ${members.slice(0, -1).join(', ')} and ${members.at(-1)}`
        continue
      }
      for (const [member, memberValue] of Object.entries(value)) {
        const field = `${key}.${member}`
        if (members.includes(member)) form[field] = memberValue
        else errors[field] = `is not an ${key} member (${members.join(', ')})`
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
  for (const item of PROFILE_ITEMS) {
    const definition = profileItem(item)
    const value = profile[definition.key]
    if (value) Object.assign(claims, definition.toClaims(value))
  }
  return claims
}
