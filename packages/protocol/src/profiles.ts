/**
 * Profiles: the optional fields a user shows about themselves, the custom fields an app's admins
 * define (features/users/fields.ts on the server), and username availability.
 *
 * Custom field values travel on the user object as `fields` (field id → value) only where the
 * server knows who is looking (GET /v1/users/{id}, GET /v1/me, PATCH answers): values of an
 * `admins` field are left out for a viewer who is not an admin. Events never carry `fields`, so
 * one serialized event can go to every viewer; a client that shows them reads the user again.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Timestamp, Uuid } from './ids.js';
import { NameText, SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Longest value of each profile field, in characters. */
export const PROFILE_LIMITS = {
  full_name: 200,
  title: 100,
  pronouns: 40,
  about: 2000,
  phone: 40,
  time_zone: 64,
  field_value: 500,
  link_value: 2048,
  field_name: 60,
  choice_option: 100,
  choice_options: 50,
} as const;
/** Most custom profile fields one app may define. */
export const MAX_PROFILE_FIELDS = 50;

/** Phone numbers: digits with the usual punctuation, an optional leading `+`. */
export const PHONE_PATTERN = '^\\+?[0-9][0-9 ().\\-]{2,39}$';
/** The shape of an IANA zone name; the server also checks the name is one it knows. */
export const TIME_ZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9_+\\-]+){0,2}$';
/** Usernames: 1–64 of letters, digits, `_`, `.`, `-`. */
export const USERNAME_PATTERN = '^[A-Za-z0-9_.\\-]{1,64}$';

/**
 * The profile fields a user sets on themselves (PATCH /v1/me) and an app's server sets on upsert
 * (POST /v1/users). `null` clears one; an absent one is left as it is.
 */
export const ProfileInput = {
  full_name: Type.Optional(Nullable(SafeText({ maxLength: PROFILE_LIMITS.full_name }))),
  title: Type.Optional(Nullable(SafeText({ maxLength: PROFILE_LIMITS.title }))),
  pronouns: Type.Optional(Nullable(SafeText({ maxLength: PROFILE_LIMITS.pronouns }))),
  about: Type.Optional(Nullable(SafeText({ maxLength: PROFILE_LIMITS.about }))),
  phone: Type.Optional(Nullable(Type.String({ pattern: PHONE_PATTERN, maxLength: PROFILE_LIMITS.phone }))),
  time_zone: Type.Optional(Nullable(Type.String({ pattern: TIME_ZONE_PATTERN, maxLength: PROFILE_LIMITS.time_zone }))),
};

/** The profile fields as the user object shows them (absent from old servers: treat as null). */
export const ProfileOutput = {
  full_name: Type.Optional(Nullable(Type.String())),
  title: Type.Optional(Nullable(Type.String())),
  pronouns: Type.Optional(Nullable(Type.String())),
  about: Type.Optional(Nullable(Type.String())),
  phone: Type.Optional(Nullable(Type.String())),
  time_zone: Type.Optional(Nullable(Type.String())),
  /** Custom field values by field id, as far as the viewer may see them; see the file's note. */
  fields: Type.Optional(Type.Record(Type.String(), Type.String())),
};

export const PROFILE_FIELD_KINDS = ['text', 'link', 'choice'] as const;
export const ProfileFieldKind = Type.Union(PROFILE_FIELD_KINDS.map((k) => Type.Literal(k)));
export type ProfileFieldKind = Static<typeof ProfileFieldKind>;
export const PROFILE_FIELD_VISIBILITIES = ['members', 'admins'] as const;
export const ProfileFieldVisibility = Type.Union(PROFILE_FIELD_VISIBILITIES.map((k) => Type.Literal(k)));

/** A custom profile field an app's admins defined. */
export const ProfileField = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: ProfileFieldKind,
  /** For `choice`: the allowed values; empty otherwise. */
  options: Type.Array(Type.String()),
  position: Type.Integer({ minimum: 0 }),
  required: Type.Boolean(),
  /** `admins`: only the app's admins (and the user themselves) see values of it. */
  visibility: ProfileFieldVisibility,
  /** Whether admins may set it on other people's profiles. */
  admin_editable: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ProfileField = Static<typeof ProfileField>;

const FieldName = NameText({ maxLength: PROFILE_LIMITS.field_name });
const Options = Type.Array(NameText({ maxLength: PROFILE_LIMITS.choice_option }), {
  maxItems: PROFILE_LIMITS.choice_options,
});

export const CreateProfileFieldBody = Type.Object(
  {
    name: FieldName,
    kind: ProfileFieldKind,
    options: Type.Optional(Options),
    required: Type.Optional(Type.Boolean()),
    visibility: Type.Optional(ProfileFieldVisibility),
    admin_editable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateProfileFieldBody = Static<typeof CreateProfileFieldBody>;

/** The kind of a field is fixed once made (its values were checked against it). */
export const UpdateProfileFieldBody = Type.Object(
  {
    name: Type.Optional(FieldName),
    options: Type.Optional(Options),
    required: Type.Optional(Type.Boolean()),
    visibility: Type.Optional(ProfileFieldVisibility),
    admin_editable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProfileFieldBody = Static<typeof UpdateProfileFieldBody>;

/** Every field's id, once each, in the new order. */
export const ReorderProfileFieldsBody = Type.Object(
  { ids: Type.Array(Uuid, { maxItems: MAX_PROFILE_FIELDS }) },
  { additionalProperties: false },
);
export type ReorderProfileFieldsBody = Static<typeof ReorderProfileFieldsBody>;

export const ProfileFieldIdParams = Type.Object({ id: Uuid });
export const ProfileFieldResponse = Type.Object({ field: ProfileField });
export const ProfileFieldsResponse = Type.Object({ fields: Type.Array(ProfileField) });

/** Values to set on a profile by field id; `null` clears one. Others are left as they are. */
export const SetProfileValuesBody = Type.Object(
  {
    fields: Type.Record(Type.String(), Nullable(SafeText({ maxLength: PROFILE_LIMITS.link_value })), {
      maxProperties: MAX_PROFILE_FIELDS,
    }),
  },
  { additionalProperties: false },
);
export type SetProfileValuesBody = Static<typeof SetProfileValuesBody>;

export const UsernameParams = Type.Object({ name: Type.String({ maxLength: 200 }) });
/** Why a username cannot be had. */
export const UsernameAvailability = Type.Object({
  available: Type.Boolean(),
  reason: Type.Optional(Type.Union([Type.Literal('taken'), Type.Literal('invalid'), Type.Literal('reserved')])),
});
export type UsernameAvailability = Static<typeof UsernameAvailability>;
