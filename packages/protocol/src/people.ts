/**
 * The people directory (`GET /v1/people`): every user of the app, searchable and filterable,
 * a page at a time in a stable order (name, then id). What a person carries depends on the
 * caller: everyone sees the profile, presence and the time zone people chose for their
 * notifications (so a client can show their local time); admins and server tokens also see
 * emails, workspace roles and whether an account is deactivated, and members see emails too
 * where the workspace's `email_visibility` is `members`. Guests see only themselves
 * and the people who share a channel with them.
 */
import { type Static, Type } from '@sinclair/typebox';
import { User, UserRole } from './entities.js';
import { SafeText } from './text.js';

/** Most people in one directory page. */
export const MAX_PEOPLE_PAGE = 100;
/** Most custom field filters (`field=…`) in one directory query. */
export const MAX_PEOPLE_FIELD_FILTERS = 5;
/** Longest value a custom field filter matches (a choice option is at most this long too). */
export const MAX_PEOPLE_FIELD_FILTER_VALUE = 100;

/**
 * One custom field filter: `<field id>:<value>`, the field's uuid, a colon, then the value
 * (1 to MAX_PEOPLE_FIELD_FILTER_VALUE characters; it may hold colons of its own).
 */
export const PeopleFieldFilter = Type.String({
  pattern:
    '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:' +
    '(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])+$',
  maxLength: 37 + MAX_PEOPLE_FIELD_FILTER_VALUE,
});

export const QueryPeopleQuery = Type.Object(
  {
    /**
     * Prefix of a word of the name or the title, of the username or (for those who see emails)
     * of the email; case-insensitive.
     */
    q: Type.Optional(SafeText({ maxLength: 100 })),
    /** Only people of this app role (`guest` lists the guests). */
    role: Type.Optional(UserRole),
    /** Prefix of a word of the title (`eng` finds "Senior Engineer"); case-insensitive. */
    title: Type.Optional(SafeText({ maxLength: 100 })),
    /**
     * Custom profile field filters, `<field id>:<value>`, repeated for more (all must hold): a
     * `choice` field matches the option exactly, a `text` or `link` field by case-insensitive
     * prefix. Only fields the caller may see (non-admins: `members` fields).
     */
    field: Type.Optional(Type.Array(PeopleFieldFilter, { maxItems: MAX_PEOPLE_FIELD_FILTERS })),
    /** Admins only: true lists only deactivated accounts (by default they are left out). */
    deactivated: Type.Optional(Type.Boolean()),
    /** `next` of the page before. */
    cursor: Type.Optional(SafeText({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PEOPLE_PAGE })),
  },
  { additionalProperties: false },
);
export type QueryPeopleQuery = Static<typeof QueryPeopleQuery>;

/** A user as the directory shows them. */
export const Person = Type.Composite([
  User,
  Type.Object({
    /** The IANA time zone of their notification settings, when they set one; null: unknown. */
    time_zone: Type.Union([Type.String(), Type.Null()]),
    /**
     * The account's email (web app accounts; null for users without one): for admins, and for
     * members where the workspace's `email_visibility` is `members`.
     */
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    /** Admins only: the workspace role (`owner`, `admin`, `member`, `guest`), null outside a workspace. */
    workspace_role: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    /** Admins only: the account is deactivated in the workspace. */
    deactivated: Type.Optional(Type.Boolean()),
  }),
]);
export type Person = Static<typeof Person>;

export const PeopleResponse = Type.Object({
  people: Type.Array(Person),
  /** The cursor of the next page, or null on the last. */
  next: Type.Union([Type.String(), Type.Null()]),
});
export type PeopleResponse = Static<typeof PeopleResponse>;
