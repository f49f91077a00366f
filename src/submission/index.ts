/** Sending mail: the contract of /work/contracts/submission.md. */
export { sendableAddresses, authorizeSender } from './sender-policy.js';
export { submitMessage, outgoingMta, type SubmitInput } from './submit-message.js';
export { checkRecipientCount, maxRecipients } from './rate-limits.js';
export { refusals } from './result.js';
export type { SubmitResult, SubmitFailure } from './result.js';
