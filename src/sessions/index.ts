/** The live-session registry (contract: /work/contracts/sessions.md). */
export { LiveSessionRegistry, recheckAll, END_SESSIONS_CHANNEL } from './registry.js';
export { endSessionsFor } from './end-sessions.js';
export { listSessions } from './list-sessions.js';
export { END_REASONS } from './validity.js';
export type { LiveHandle, LiveProtocol, LiveSessionInfo, LiveSessionSummary, SessionSelector } from './types.js';
export { endOtherOwnSessions, endOwnLiveSession, endOwnWebSession } from './end-own.js';
