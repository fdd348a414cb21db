// The password policy, in one place for every form that sets or checks a password (registration,
// the CLI, password change): 8 to 1,024 bytes of UTF-8, any Unicode (NIST SP 800-63B §5.1.1.2:
// no composition rules, a generous maximum). Passwords are hashed and checked after NFC
// normalisation (password.ts), so the same password typed on two keyboards is the same password.
// Common passwords (README, Security): the 49,000-entry list zxcvbn-ts ships (passwords seen most
// often in public breaches, most common first), offline; loaded once, about 0.3 s at start.
import { dictionary } from '@zxcvbn-ts/language-common'
import { z } from 'zod'

export const PASSWORD_MIN_BYTES = 8
/** argon2 takes any length, but hashing megabytes per login attempt is a cheap denial of service. */
export const PASSWORD_MAX_BYTES = 1024

// A lone surrogate is not a character: UTF-8 turns it into U+FFFD, so two different passwords
// would hash alike.
const LONE_SURROGATE = /\p{Cs}/u

export const passwordBytes = (password: string): number => Buffer.byteLength(password.normalize('NFC'), 'utf8')

// Compared lower-cased: `Password1` is as guessable as `password1`. Only entries the length rule
// would let through are kept.
const COMMON_PASSWORDS = new Set(
  dictionary['passwords-common'].map((p) => p.normalize('NFC').toLowerCase()).filter((p) => passwordBytes(p) >= PASSWORD_MIN_BYTES),
)

/** Whether the password is on the list of common passwords (case ignored). */
export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORDS.has(password.normalize('NFC').toLowerCase())
}

/** Whether a login should check this password at all: nothing outside the policy was ever registered. */
export function withinPasswordLimit(password: string): boolean {
  return !LONE_SURROGATE.test(password) && passwordBytes(password) <= PASSWORD_MAX_BYTES
}

/** A new password; its messages are catalogue keys (src/i18n), shown next to the field. */
export const newPassword = z
  .string({ error: (issue) => (issue.input === undefined ? 'error.required' : 'error.invalid') })
  .superRefine((value, ctx) => {
    if (LONE_SURROGATE.test(value)) return void ctx.addIssue({ code: 'custom', message: 'error.notUnicode' })
    const bytes = passwordBytes(value)
    if (bytes < PASSWORD_MIN_BYTES) ctx.addIssue({ code: 'custom', message: 'error.passwordTooShort', params: { min: PASSWORD_MIN_BYTES } })
    else if (bytes > PASSWORD_MAX_BYTES)
      ctx.addIssue({ code: 'custom', message: 'error.passwordTooLong', params: { max: PASSWORD_MAX_BYTES } })
    else if (isCommonPassword(value)) ctx.addIssue({ code: 'custom', message: 'error.passwordCommon' })
  })
