// Reading one pending interaction with everything its pages need (one round trip, storage/contexts.ts).
import type { Executor } from '../storage/database.ts'
import { findInteractionContext, type InteractionContext } from '../storage/contexts.ts'
import { finishInteraction } from '../storage/interactions.ts'

export type { Channel } from '../storage/channels.ts'
export type { InteractionContext } from '../storage/contexts.ts'
export type { InteractionRecord } from '../storage/interactions.ts'

const INTERACTION_ID = /^[A-Za-z0-9_-]{22}$/

/** The interaction with its channel, the browser's session, the user's grant and profile; undefined when unknown. */
export async function openInteraction(db: Executor, id: string, sessionId: string | null): Promise<InteractionContext | undefined> {
  return INTERACTION_ID.test(id) ? findInteractionContext(db, id, sessionId) : undefined
}

/** Ends an interaction without a code (an error went back to the channel). */
export async function abandonInteraction(db: Executor, id: string): Promise<void> {
  await finishInteraction(db, id)
}
