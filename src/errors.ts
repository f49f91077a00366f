/**
 * One catalogue of coded errors. Every error a person can meet carries a stable `code` for the logs and a
 * `userMessage`: one readable sentence, never a stack trace, SQL or secret.
 */
export const errorCatalogue = {
  CONFIG_INVALID: 'The server is misconfigured.',
  INVALID_INPUT: 'Some of the information entered is not valid.',
  USERNAME_INVALID: 'Usernames may contain lowercase letters, digits, ".", "_", "-" and "@" only.',
  USERNAME_TAKEN: 'That username is already taken.',
  USER_NOT_FOUND: 'There is no such user.',
  GROUP_NOT_FOUND: 'There is no such business or family.',
  GROUP_NAME_TAKEN: 'A business or family with that name already exists.',
  LOGIN_NOT_FOUND: 'There is no such alternative login.',
  TOO_MANY_LOGINS: 'You have reached the maximum number of alternative logins of this kind. Revoke one first.',
  LOGIN_ALREADY_CREATED: 'That form was already sent once, and the login it asked for was created then; nothing more was created.',
  LOGIN_SERVICES_INVALID: 'Choose one or more of the services web, imap and smtp.',
  TOTP_ENROLMENT_EXPIRED: 'This setup page is out of date. Start again to get a new secret for your app.',
  TOTP_CODE_WRONG: 'That code is not the current one. Check the time on your phone and type the code the app shows now.',
  ALTERNATE_SAME_AS_MAIN: 'An alternative password must differ from your main password.',
  PASSWORD_INCORRECT: 'The current password is not correct.',
  USER_ALREADY_IN_GROUP: 'That user already belongs to a business or family.',
  NOT_GROUP_MEMBER: 'That user is not a member of this business or family.',
  LAST_GROUP_ADMIN: 'A business or family needs at least one administrator: appoint another one first.',
  PERSONALITY_NOT_FOUND: 'There is no such personality.',
  PERSONALITY_IS_DEFAULT: 'The default personality cannot be deleted: choose another default first.',
  ADDRESS_TAKEN: 'That address belongs to another user. Ask an administrator if it should be yours.',
  CONFIRMATION_INVALID: 'This confirmation link is not valid: it was already used, has expired, or belongs to another account. Send a new one from Options → Personalities.',
  CONFIRMATION_TOO_SOON: 'A confirmation link was sent to that address a moment ago. Please wait a minute before asking for another.',
  CONFIRMATION_NOT_SENT: 'The confirmation link could not be sent right now. Please try “Send again” later.',
  ADDRESS_ALREADY_PROVEN: 'That address is already verified.',
  EMAIL_INVALID: 'That email address is not valid.',
  MOBILE_INVALID: 'That mobile number is not valid. Write it with its country code, e.g. +1 415 555 0142.',
  PASSWORD_TOO_SHORT: 'Passwords must be at least 8 characters long.',
  PASSWORD_ALREADY_CHOSEN: 'You have already chosen your password. Change it under Options → Password.',
  SMS_NO_MOBILE: 'No mobile number is set on your default personality, so no code can be sent.',
  SMS_NO_CREDITS: 'There are no SMS credits left to send your code.',
  SMS_COOLDOWN: 'A code was sent a moment ago. Please wait before asking for another.',
  SMS_RATE_LIMITED: 'Too many codes have been sent. Please try again later.',
  SMS_COUNTRY_BLOCKED: 'Codes cannot be sent to numbers in that country.',
  SMS_INVALID_NUMBER: 'The SMS could not be sent: fix the Mobile number on your default personality.',
  SMS_PROVIDER_DOWN: 'The SMS could not be sent right now. Please try again later.',
  UPSTREAM_UNAVAILABLE: 'The mail store is not reachable right now. Please try again later.',
  DATABASE_UNAVAILABLE: 'Postern cannot reach its database right now. Nothing was changed; please try again in a moment.',
  FORM_CONTROL_CHARACTERS:
    'The form contained a character that cannot be typed, such as a NUL byte or another control character. Nothing was saved: remove it and try again.',
  NOTICE_LINK_INVALID: 'This link is not valid: it may have been copied incompletely or changed. Open it again from the notice mail.',
  NOTICE_LINK_EXPIRED: 'This link has expired: the links in a login notice work for 7 days. To revoke the login, go to Options → Alternative Logins.',
  NOTICE_LINK_USED: 'This notice was already answered: each of its links works once. To revoke the login, go to Options → Alternative Logins.',
  LOGIN_NOTICE_NOT_SENT: 'A login notice could not be sent.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'Not found.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** A domain error: a stable code, a sentence a person can read, and context for the logs only. */
export class PosternError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, options: { message?: string; context?: Record<string, unknown>; cause?: unknown } = {}) {
    const userMessage = options.message ?? errorCatalogue[code];
    super(userMessage, { cause: options.cause });
    this.name = 'PosternError';
    this.code = code;
    this.userMessage = userMessage;
    this.context = options.context ?? {};
  }
}

export function isPosternError(e: unknown, code?: ErrorCode): e is PosternError {
  return e instanceof PosternError && (code === undefined || e.code === code);
}
