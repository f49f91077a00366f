/**
 * The whole database schema, one file for drizzle-kit. Both drivers (PostgreSQL and embedded PGlite) run
 * the same migrations generated from it (`npm run db:generate`, output in drizzle/, never hand-edited).
 *
 * Money and single-use secrets rely on the database, not on application locks:
 *  - credit_accounts.balance has CHECK (balance >= 0); debits are guarded UPDATEs;
 *  - one-time codes and SMS challenges are consumed with `UPDATE … WHERE used_at IS NULL RETURNING`.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const tstz = (name: string) => timestamp(name, { withTimezone: true });

export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  username: text('username').notNull().unique(),
  /** argon2id (PHC string). Null for an account whose member has not chosen a password yet. */
  passwordHash: text('password_hash'),
  /** Mailbox name on the upstream store (the SASL authzid). */
  upstreamUser: text('upstream_user').notNull(),
  disabled: boolean('disabled').notNull().default(false),
  /** Set when an administrator created the account: the first login must choose a password. */
  mustChangePassword: boolean('must_change_password').notNull().default(false),
  passwordChangedAt: tstz('password_changed_at').notNull().defaultNow(),
  createdAt: createdAt(),
});

export const groups = pgTable('groups', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: ['business', 'family'] }).notNull(),
  /** "Allow SMS two-factor logins": members' SMS codes are paid from the group's credits. */
  allowSms: boolean('allow_sms').notNull().default(false),
  createdAt: createdAt(),
});

/** A user belongs to at most one business or family, so "who pays" has one answer. */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: integer('group_id').notNull().references(() => groups.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    isAdmin: boolean('is_admin').notNull().default(false),
    addedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), uniqueIndex('group_members_user_unique').on(t.userId)],
);

export const personalities = pgTable(
  'personalities',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    email: text('email').notNull(),
    /** E.164, e.g. +447700900123. */
    mobile: text('mobile'),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    index('personalities_user_idx').on(t.userId),
    uniqueIndex('personalities_one_default').on(t.userId).where(sql`${t.isDefault}`),
  ],
);

/**
 * Addresses a user has proven they may use (send as, receive for, get notices at): one row per address,
 * so an address belongs to one user at a time (the primary key). `address` is lowercased. How it was
 * proven: asserted by an operator, a confirmation link opened, or given by a group administrator in a
 * domain the operator assigned to that group.
 */
export const provenAddresses = pgTable(
  'proven_addresses',
  {
    address: text('address').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    provenBy: text('proven_by', { enum: ['operator', 'link', 'group-domain'] }).notNull(),
    provenAt: createdAt(),
  },
  (t) => [index('proven_addresses_user_idx').on(t.userId)],
);

/** A confirmation link mailed to an unproven address: only the keyed hash of its token is stored. */
export const addressConfirmations = pgTable(
  'address_confirmations',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
  },
  (t) => [index('address_confirmations_user_idx').on(t.userId, t.createdAt)],
);

/** Mail domains an operator gave to a Business/Family: its administrators hand out addresses in them. */
export const groupDomains = pgTable('group_domains', {
  domain: text('domain').primaryKey(),
  groupId: integer('group_id').notNull().references(() => groups.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});

/** One row per submitted message (SMTP or web): the ledger the hourly sending limits count. */
export const submissions = pgTable(
  'submissions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The alternative login used, or null for the main password. */
    loginId: integer('login_id'),
    recipients: integer('recipients').notNull(),
    at: createdAt(),
  },
  (t) => [index('submissions_user_idx').on(t.userId, t.at), index('submissions_login_idx').on(t.loginId, t.at)],
);

export const loginKinds = ['password', 'otp', 'sms', 'app', 'totp'] as const;
export type LoginKind = (typeof loginKinds)[number];
export const services = ['web', 'imap', 'smtp'] as const;
export type Service = (typeof services)[number];

export const altLogins = pgTable(
  'alt_logins',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: loginKinds }).notNull(),
    label: text('label').notNull(),
    restricted: boolean('restricted').notNull().default(false),
    services: text('services').array().notNull(),
    /**
     * password/sms/totp: argon2id of the chosen secret (totp: the password typed before the app's code). app: HMAC-SHA-256(SECRET_KEY, secret), found by index.
     * otp: argon2id of the list's base password, typed before each code, or null without one (the codes
     * live in otp_codes).
     */
    secretHash: text('secret_hash'),
    /**
     * otp/sms only: null = each code opens one session; 3600 = a code, once used, keeps working for that
     * many seconds from its first use (a fixed window, for mail clients that reconnect).
     */
    validForSeconds: integer('valid_for_seconds'),
    /**
     * otp only: the list is the owner's recovery path for a lost phone; each use is audited as
     * `login.recovery-used` (what the owner is notified of).
     */
    recovery: boolean('recovery').notNull().default(false),
    /** totp only: the authenticator app's secret, AES-256-GCM under SECRET_KEY (src/auth/totp-seal.ts). */
    totpSecret: text('totp_secret'),
    /** totp only: the last RFC 6238 time step accepted; a code is accepted only for a later step. */
    totpLastStep: integer('totp_last_step'),
    /** The random key of the form that created it: a resubmitted form creates nothing a second time. */
    creationKey: text('creation_key').unique(),
    createdAt: createdAt(),
    lastUsedAt: tstz('last_used_at'),
    useCount: integer('use_count').notNull().default(0),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [index('alt_logins_user_idx').on(t.userId), index('alt_logins_secret_idx').on(t.secretHash)],
);

export const otpCodes = pgTable(
  'otp_codes',
  {
    id: serial('id').primaryKey(),
    loginId: integer('login_id').notNull().references(() => altLogins.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** Position on the printed list (1-based). */
    n: integer('n').notNull(),
    /** HMAC-SHA-256(SECRET_KEY, userId ":" code): one indexed lookup per login attempt. */
    codeHash: text('code_hash').notNull(),
    usedAt: tstz('used_at'),
  },
  (t) => [uniqueIndex('otp_codes_user_hash').on(t.userId, t.codeHash), index('otp_codes_login_idx').on(t.loginId)],
);

export const smsChallenges = pgTable(
  'sms_challenges',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    loginId: integer('login_id').notNull().references(() => altLogins.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    /** Last digits of the number the code went to, for "•••• ••42". */
    sentToHint: text('sent_to_hint').notNull(),
    smsMessageId: integer('sms_message_id'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at').notNull(),
    consumedAt: tstz('consumed_at'),
    voidedAt: tstz('voided_at'),
  },
  (t) => [index('sms_challenges_login_idx').on(t.loginId, t.createdAt)],
);

/** Failure counters shared by every instance: key is `user:<id>` or `ip:<address>`. */
export const throttle = pgTable('throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  lastFailureAt: tstz('last_failure_at').notNull().defaultNow(),
  blockedUntil: tstz('blocked_until'),
});

/**
 * Bytes restricted sessions added (APPEND, COPY) per user, login and UTC day: src/restricted/budget.ts.
 * Reserved with one guarded upsert, so concurrent sessions of one login cannot overshoot together.
 * login_id 0 stands for the main password.
 */
export const restrictedBudget = pgTable(
  'restricted_budget',
  {
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    loginId: integer('login_id').notNull(),
    day: date('day').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.loginId, t.day] })],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: createdAt(),
    event: text('event').notNull(),
    userId: integer('user_id'),
    groupId: integer('group_id'),
    actorUserId: integer('actor_user_id'),
    ip: text('ip'),
    service: text('service'),
    /** Non-secret facts only (method, reason, login id …). */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_user_idx').on(t.userId, t.at), index('audit_group_idx').on(t.groupId, t.at)],
);

/**
 * Read on every page view through `postern_web_session()` (drizzle/0009_web-session-lookup.sql), which
 * returns these columns with the user's, login's and group's: a column the lookup needs is added to that
 * function too, in a new migration (drizzle-kit does not see functions).
 */
export const webSessions = pgTable(
  'web_sessions',
  {
    /** The public half of the `id.secret` token. */
    id: text('id').primaryKey(),
    /** SHA-256 of the secret half: a stolen database does not yield live cookies. */
    secretHash: text('secret_hash').notNull(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    loginId: integer('login_id'),
    method: text('method').notNull(),
    restricted: boolean('restricted').notNull(),
    csrfToken: text('csrf_token').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
    idleTimeoutSeconds: integer('idle_timeout_seconds').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    /** When the main password was last re-entered in this session (step-up). */
    reauthAt: tstz('reauth_at'),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [index('web_sessions_user_idx').on(t.userId)],
);

/**
 * A webmail search's terms, kept server-side so that they never go in a URL (browser history on a kiosk
 * outlives the session): the results page links to the opaque id. Bound to the web session that searched,
 * gone with it, and pruned after 30 minutes (web/mail/saved-searches.ts). In the database rather than in
 * process memory so that a results link works on whichever instance the balancer picks.
 */
export const webSavedSearches = pgTable(
  'web_saved_searches',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id').notNull().references(() => webSessions.id, { onDelete: 'cascade' }),
    terms: jsonb('terms').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('web_saved_searches_session_idx').on(t.sessionId, t.createdAt), index('web_saved_searches_created_idx').on(t.createdAt)],
);

/**
 * A change that waited for "confirm your password" (step-up): the form as sent, sealed with AES-256-GCM
 * under a key derived from SECRET_KEY (it may hold a typed password), bound to the web session that sent
 * it, run once after the confirmation and void after a few minutes.
 */
export const pendingActions = pgTable(
  'pending_actions',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id').notNull(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    sealedForm: text('sealed_form').notNull(),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [index('pending_actions_session_idx').on(t.sessionId)],
);

/** A personal or a group credit account; exactly one owner. */
export const creditAccounts = pgTable(
  'credit_accounts',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').unique().references(() => users.id, { onDelete: 'cascade' }),
    groupId: integer('group_id').unique().references(() => groups.id, { onDelete: 'cascade' }),
    balance: integer('balance').notNull().default(0),
  },
  (t) => [
    check('credit_balance_non_negative', sql`${t.balance} >= 0`),
    check('credit_account_one_owner', sql`(${t.userId} IS NULL) <> (${t.groupId} IS NULL)`),
  ],
);

export const ledgerKinds = ['purchase', 'sms_debit', 'refund', 'adjustment'] as const;

/** Append-only: every balance equals the sum of its account's deltas. */
export const creditLedger = pgTable(
  'credit_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    accountId: integer('account_id').notNull().references(() => creditAccounts.id),
    delta: integer('delta').notNull(),
    kind: text('kind', { enum: ledgerKinds }).notNull(),
    balanceAfter: integer('balance_after').notNull(),
    /** Whose SMS it paid for (the member), when kind is sms_debit or refund. */
    userId: integer('user_id'),
    /** Who made the change (administrator, operator), when not the system. */
    actorUserId: integer('actor_user_id'),
    reason: text('reason'),
    smsMessageId: integer('sms_message_id'),
    orderId: integer('order_id'),
    at: createdAt(),
  },
  (t) => [index('ledger_account_idx').on(t.accountId, t.at)],
);

export const smsMessages = pgTable(
  'sms_messages',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull(),
    /** The SMS login that asked for the code: the cool-down between sends is per login. */
    loginId: integer('login_id'),
    accountId: integer('account_id').notNull().references(() => creditAccounts.id),
    toNumber: text('to_number').notNull(),
    provider: text('provider').notNull(),
    providerSid: text('provider_sid').unique(),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
    /** Set once, by the refund itself: a credit is refunded at most once. */
    refundedAt: tstz('refunded_at'),
  },
  (t) => [index('sms_messages_user_idx').on(t.userId, t.createdAt), index('sms_messages_account_idx').on(t.accountId, t.createdAt)],
);

export const creditOrders = pgTable('credit_orders', {
  id: serial('id').primaryKey(),
  accountId: integer('account_id').notNull().references(() => creditAccounts.id),
  /** One order per submitted form, whatever the number of submissions. */
  idempotencyKey: text('idempotency_key').notNull().unique(),
  credits: integer('credits').notNull(),
  provider: text('provider').notNull(),
  status: text('status', { enum: ['pending', 'paid', 'failed'] }).notNull(),
  createdBy: integer('created_by'),
  createdAt: createdAt(),
  completedAt: tstz('completed_at'),
});

export const invoices = pgTable('invoices', {
  id: serial('id').primaryKey(),
  orderId: integer('order_id').notNull().unique().references(() => creditOrders.id),
  credits: integer('credits').notNull(),
  amountCents: integer('amount_cents').notNull(),
  currency: text('currency').notNull(),
  createdAt: createdAt(),
});

/** Messages written by the console SMS provider, so the demo can show what a phone would have received. */
export const smsOutbox = pgTable('sms_outbox', {
  id: serial('id').primaryKey(),
  toNumber: text('to_number').notNull(),
  body: text('body').notNull(),
  createdAt: createdAt(),
});

/**
 * Instances holding live IMAP/SMTP/web sessions (src/sessions/). Each writes its heartbeat about once a
 * second; one silent for long is gone (crashed, paused), its rows are ignored and then pruned.
 */
export const liveInstances = pgTable('live_instances', {
  id: text('id').primaryKey(),
  startedAt: createdAt(),
  heartbeatAt: tstz('heartbeat_at').notNull().defaultNow(),
});

/** Every instance's live sessions, written in batches (Options → Security lists them). */
export const liveSessions = pgTable(
  'live_sessions',
  {
    id: text('id').primaryKey(),
    instanceId: text('instance_id').notNull().references(() => liveInstances.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull(),
    /** The alternative login that opened it; null for the main password. */
    loginId: integer('login_id'),
    loginKind: text('login_kind').notNull(),
    restricted: boolean('restricted').notNull(),
    protocol: text('protocol', { enum: ['imap', 'smtp', 'web'] }).notNull(),
    clientIp: text('client_ip'),
    clientName: text('client_name'),
    startedAt: tstz('started_at').notNull(),
    lastActiveAt: tstz('last_active_at').notNull(),
  },
  (t) => [index('live_sessions_user_idx').on(t.userId), index('live_sessions_instance_idx').on(t.instanceId)],
);

/**
 * Login notices (src/notices/): one row per use of an alternative login the owner is to hear of. A use
 * waits here (notice_id null) until a notice reports it; at most one notice per login per hour, so the
 * uses in between are summarised by the next one.
 */
export const loginNoticeUses = pgTable(
  'login_notice_uses',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    loginId: integer('login_id').notNull().references(() => altLogins.id, { onDelete: 'cascade' }),
    method: text('method').notNull(),
    service: text('service').notNull(),
    ip: text('ip'),
    /** IMAP ID name/version or the browser, shortened ("Chrome 131 on Linux"). */
    client: text('client'),
    at: tstz('at').notNull(),
    noticeId: bigint('notice_id', { mode: 'number' }).references(() => loginNotices.id, { onDelete: 'set null' }),
  },
  (t) => [index('login_notice_uses_login_idx').on(t.loginId, t.noticeId)],
);

/**
 * A notice mailed about a login's use(s). Its two links ("This was me", "This wasn't me") are signed and
 * share one random nonce, of which only the keyed hash is stored. Each works once; "This wasn't me" still
 * works after "This was me" (src/notices/answer.ts), never the other way round.
 */
export const loginNotices = pgTable(
  'login_notices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    loginId: integer('login_id').notNull().references(() => altLogins.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: tstz('created_at').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    /** When the outgoing MTA took the mail; null until then (pending) and for a notice given up. */
    sentAt: tstz('sent_at'),
    answeredAt: tstz('answered_at'),
    answer: text('answer', { enum: ['mine', 'revoke'] }),
    /** Attempts to hand the mail to the outgoing MTA so far (src/notices/delivery.ts). */
    attempts: integer('attempts').notNull().default(0),
    /**
     * When the next attempt is due; while one runs, the end of its lease (so no other instance takes it).
     * Null once sent or given up. Rows from before retries existed have none: they are not retried.
     */
    nextAttemptAt: tstz('next_attempt_at'),
    /** After the last attempt failed (or the MTA refused for good): nothing more is tried. */
    gaveUpAt: tstz('gave_up_at'),
    /** The last failed attempt's code (SEND_UPSTREAM_DOWN …): never the MTA's words, never an address. */
    lastFailure: text('last_failure'),
  },
  (t) => [index('login_notices_login_idx').on(t.loginId, t.createdAt), index('login_notices_due_idx').on(t.nextAttemptAt)],
);

/** Which login kinds a user does not want notices for (Options → Security). No row: every kind notifies. */
export const loginNoticeSettings = pgTable('login_notice_settings', {
  userId: integer('user_id').primaryKey().references(() => users.id, { onDelete: 'cascade' }),
  /** Kinds turned off (login kinds, and 'recovery' for a recovery list): a new kind is on by default. */
  mutedKinds: text('muted_kinds').array().notNull().default(sql`'{}'::text[]`),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** App passwords: the (address, client) pairs each has been used from, so only a new pair is notified. */
export const loginSeenClients = pgTable(
  'login_seen_clients',
  {
    loginId: integer('login_id').notNull().references(() => altLogins.id, { onDelete: 'cascade' }),
    ip: text('ip').notNull(),
    client: text('client').notNull(),
    firstSeenAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.loginId, t.ip, t.client] })],
);
