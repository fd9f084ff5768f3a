/**
 * Edit your own profile in one dialog: display name, username (checked while you type), full
 * name, title, pronouns, time zone (with the time it is there), phone, about, and the custom
 * fields your workspace defined. One Save: the profile, then the custom field values. The photo
 * goes on its own, at once: choose a file, crop it square, and it is uploaded.
 */
import { PROFILE_LIMITS, type UsernameAvailability } from '@parley/protocol';
import { Avatar, localTime, useChatClient } from '@parley/react';
import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
import { CustomField } from '../components/custom-field.js';
import { Modal } from '../components/modal.js';
import { PhotoPicker } from '../components/photo-picker.js';
import { useProfileFields } from '../components/profile-panel.js';
import { TextField } from '../components/text-field.js';
import { useMeUser } from '../hooks/use-me.js';

const REASON: Record<NonNullable<UsernameAvailability['reason']>, string> = {
  // A person's username or a user group's handle: @name names one of them.
  taken: 'Taken by someone else or a group',
  invalid: 'Letters, digits, _ . - only (up to 64)',
  reserved: 'Reserved',
};

/** The zones this browser knows, with the viewer's own first. */
function useZones(): string[] {
  return useMemo(() => {
    const all = (Intl as { supportedValuesOf?(k: string): string[] }).supportedValuesOf?.('timeZone') ?? [];
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return mine && !all.includes(mine) ? [mine, ...all] : all;
  }, []);
}

export function ProfileDialog({ onClose }: { onClose(): void }) {
  const client = useChatClient();
  const me = useMeUser();
  const id = useId();
  const zones = useZones();
  const defs = useProfileFields();
  const [name, setName] = useState(me?.name ?? '');
  const [username, setUsername] = useState(me?.username ?? '');
  const [fullName, setFullName] = useState(me?.full_name ?? '');
  const [title, setTitle] = useState(me?.title ?? '');
  const [pronouns, setPronouns] = useState(me?.pronouns ?? '');
  const [timeZone, setTimeZone] = useState(me?.time_zone ?? '');
  const [phone, setPhone] = useState(me?.phone ?? '');
  const [about, setAbout] = useState(me?.about ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<UsernameAvailability | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  // The custom field values are only on a read that knows the viewer: read once. A value typed
  // before the read answers stays (a late answer must not put the old one back).
  useEffect(() => {
    if (!me?.id) return;
    client.profiles
      .get(me.id)
      .then((u) => setValues((typed) => ({ ...(u.fields ?? {}), ...typed })))
      .catch(() => {});
  }, [client, me?.id]);

  // Username availability while typing, a moment after the last key; stale answers are dropped.
  useEffect(() => {
    const u = username.trim();
    if (!u || u === me?.username) {
      setCheck(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      client.profiles
        .usernameAvailable(u)
        .then((r) => live && setCheck(r))
        .catch(() => {});
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [client, username, me?.username]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaving(true);
    try {
      await client.updateMe({
        name: name.trim(),
        username: username.trim() || null,
        // Emptied inputs clear their field (null): '' is not a phone number.
        full_name: fullName.trim() || null,
        title: title.trim() || null,
        pronouns: pronouns.trim() || null,
        time_zone: timeZone || null,
        phone: phone.trim() || null,
        about: about.trim() ? about : null,
      });
      const editable = (defs ?? []).filter((f) => f.visibility === 'members');
      if (editable.length > 0 && me?.id)
        await client.profiles.setFields(
          me.id,
          Object.fromEntries(editable.map((f) => [f.id, values[f.id]?.trim() ? (values[f.id] ?? null) : null])),
        );
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  const now = localTime(timeZone || null);
  return (
    <Modal
      title="Edit your profile"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button app-button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form={`${id}-form`}
            className="app-button app-button--primary"
            disabled={saving || check?.available === false}
          >
            Save
          </button>
        </>
      }
    >
      {/* The photo is uploaded on its own, at once (it is not part of Save). */}
      <PhotoPicker
        picture={<Avatar user={me ?? undefined} id={me?.id ?? ''} size={72} />}
        label={me?.image ? 'Change photo' : 'Upload photo'}
        cropTitle="Crop your photo"
        hasPicture={!!me?.image}
        upload={async (square, onProgress) => {
          await client.profiles.setAvatar(square, {
            onProgress: (sent, total) => onProgress(total ? sent / total : 0),
          });
        }}
        remove={async () => {
          await client.profiles.removeAvatar();
        }}
      />
      <form id={`${id}-form`} className="app-form app-profile-form" onSubmit={save}>
        <div className="app-profile-form__grid">
          <TextField id={`${id}-name`} label="Display name" value={name} onValue={setName} required maxLength={200} />
          <TextField
            id={`${id}-username`}
            label="Username"
            value={username}
            onValue={setUsername}
            maxLength={64}
            hint={
              check ? (
                <span
                  data-testid="username-check"
                  className={check.available ? 'app-ok' : 'app-form__error'}
                  aria-live="polite"
                >
                  {check.available ? 'Available' : REASON[check.reason ?? 'invalid']}
                </span>
              ) : undefined
            }
          />
          <TextField
            id={`${id}-full`}
            label="Full name"
            value={fullName}
            onValue={setFullName}
            maxLength={PROFILE_LIMITS.full_name}
          />
          <TextField
            id={`${id}-title`}
            label="Title"
            value={title}
            onValue={setTitle}
            maxLength={PROFILE_LIMITS.title}
            placeholder="What you do"
          />
          <TextField
            id={`${id}-pronouns`}
            label="Pronouns"
            value={pronouns}
            onValue={setPronouns}
            maxLength={PROFILE_LIMITS.pronouns}
            placeholder="they/them"
          />
          <TextField
            id={`${id}-phone`}
            label="Phone"
            type="tel"
            value={phone}
            onValue={setPhone}
            maxLength={PROFILE_LIMITS.phone}
          />
          <div className="app-field">
            <label className="app-field__label" htmlFor={`${id}-tz`}>
              Time zone
            </label>
            <select
              id={`${id}-tz`}
              className="app-input"
              value={timeZone}
              onChange={(e) => setTimeZone(e.target.value)}
            >
              <option value="">Not set</option>
              {timeZone && !zones.includes(timeZone) ? <option value={timeZone}>{timeZone}</option> : null}
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
            {now ? <span className="app-field__hint">{now} there now</span> : null}
          </div>
          {(defs ?? [])
            .filter((f) => f.visibility === 'members')
            .map((f) => (
              <CustomField
                key={f.id}
                id={`${id}-f-${f.id}`}
                field={f}
                value={values[f.id] ?? ''}
                onValue={(v) => setValues((s) => ({ ...s, [f.id]: v }))}
              />
            ))}
        </div>
        <label className="app-field" htmlFor={`${id}-about`}>
          <span className="app-field__label">About</span>
          <textarea
            id={`${id}-about`}
            className="app-input app-textarea"
            rows={3}
            value={about}
            maxLength={PROFILE_LIMITS.about}
            onChange={(e) => setAbout(e.target.value)}
          />
        </label>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
