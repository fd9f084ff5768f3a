/**
 * Profiles in the SDK (`client.profiles`): reading a user with the custom field values the caller
 * may see, setting values, the app's custom field definitions (admins change them), and whether a
 * username can be had. Every user read here is merged into `state.users`; `user.updated` events
 * keep those copies live (they carry no `fields`, so the values read here stay until read again).
 */
import type {
  CreateProfileFieldBody,
  ProfileField,
  UpdateProfileFieldBody,
  User,
  UsernameAvailability,
} from '@parley/protocol';
import type { Http } from './http.js';

export interface ProfilesHost {
  mergeUsers(users: User[]): void;
}

export class Profiles {
  constructor(
    private readonly http: Http,
    private readonly host: ProfilesHost,
  ) {}

  /** One user with their presence and the custom field values you may see. */
  async get(userId: string): Promise<User> {
    const r = await this.http.call<{ user: User }>('GET', `/v1/users/${encodeURIComponent(userId)}`);
    this.host.mergeUsers([r.user]);
    return r.user;
  }

  /** Set custom field values by field id (null clears one); on your own profile or, as an admin, another's. */
  async setFields(userId: string, fields: Record<string, string | null>): Promise<User> {
    const r = await this.http.call<{ user: User }>('PUT', `/v1/users/${encodeURIComponent(userId)}/fields`, {
      fields,
    });
    this.host.mergeUsers([r.user]);
    return r.user;
  }

  /** The app's custom profile fields in order (admins-only ones for admins alone). */
  async fields(): Promise<ProfileField[]> {
    return (await this.http.call<{ fields: ProfileField[] }>('GET', '/v1/profile-fields')).fields;
  }

  /** Define a custom profile field (app admins). */
  async createField(body: CreateProfileFieldBody): Promise<ProfileField> {
    return (await this.http.call<{ field: ProfileField }>('POST', '/v1/profile-fields', body)).field;
  }

  /** Change a custom profile field (app admins); its kind is fixed. */
  async updateField(id: string, body: UpdateProfileFieldBody): Promise<ProfileField> {
    return (await this.http.call<{ field: ProfileField }>('PATCH', `/v1/profile-fields/${id}`, body)).field;
  }

  /** Put the fields in this order (every field's id once). */
  async reorderFields(ids: string[]): Promise<ProfileField[]> {
    return (await this.http.call<{ fields: ProfileField[] }>('POST', '/v1/profile-fields/order', { ids })).fields;
  }

  /** Delete a custom profile field and every value of it (app admins). */
  async deleteField(id: string): Promise<void> {
    await this.http.call('DELETE', `/v1/profile-fields/${id}`);
  }

  /** Whether `name` could be your username now (for forms that check while one types). */
  usernameAvailable(name: string): Promise<UsernameAvailability> {
    return this.http.call<UsernameAvailability>('GET', `/v1/usernames/${encodeURIComponent(name)}`);
  }
}
