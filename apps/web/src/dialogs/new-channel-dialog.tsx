/** Create a channel: a name (shown as its #slug), an optional topic, public or private. */
import { ParleyError } from '@parley/client';
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { LockIcon } from '../components/icons.js';
import { Modal } from '../components/modal.js';
import { channelSlug } from '../lib/names.js';

export function NewChannelDialog({ onClose, onCreated }: { onClose(): void; onCreated(cid: string): void }) {
  const client = useChatClient();
  const id = useId();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [priv, setPriv] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; existing?: string } | null>(null);
  const slug = channelSlug(name);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!slug) {
      setError({ message: 'Give the channel a name with at least one letter or digit.' });
      return;
    }
    setBusy(true);
    setError(null);
    const ch = client.channel(priv ? 'group' : 'public', slug);
    try {
      await ch.createChannel({ name: slug, ...(topic.trim() ? { topic: topic.trim() } : {}) });
      onCreated(ch.cid);
    } catch (err) {
      setBusy(false);
      if (err instanceof ParleyError && err.code === 'CONFLICT')
        setError({
          message: `A channel named #${slug} already exists.`,
          ...(priv ? {} : { existing: `public:${slug}` }),
        });
      else setError({ message: err instanceof Error ? err.message : String(err) });
    }
  };

  return (
    <Modal
      title="Create a channel"
      subtitle="Channels are where your team talks about a topic, a project or anything else."
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={`${id}-form`} className="app-button app-button--primary" disabled={busy || !slug}>
            {busy ? 'Creating…' : 'Create'}
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="app-form" onSubmit={create}>
        <label className="app-field" htmlFor={`${id}-name`}>
          <span className="app-field__label">Name</span>
          <span className="app-input-prefix">
            <span aria-hidden="true">{priv ? <LockIcon /> : '#'}</span>
            <input
              id={`${id}-name`}
              className="app-input"
              value={name}
              maxLength={80}
              placeholder="e.g. plan-budget"
              // biome-ignore lint/a11y/noAutofocus: first field of a dialog the user opened
              autoFocus
              onChange={(e) => setName(e.target.value)}
            />
          </span>
          {name && slug !== name ? <span className="app-field__hint">Will be created as #{slug || '…'}</span> : null}
        </label>
        <label className="app-field" htmlFor={`${id}-topic`}>
          <span className="app-field__label">
            Topic <span className="app-muted">(optional)</span>
          </span>
          <input
            id={`${id}-topic`}
            className="app-input"
            value={topic}
            maxLength={250}
            placeholder="What is this channel about?"
            onChange={(e) => setTopic(e.target.value)}
          />
        </label>
        <label className="app-toggle">
          <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.target.checked)} />
          <span>
            <strong>Make private</strong>
            <span className="app-field__hint">Only people you add can see and join a private channel.</span>
          </span>
        </label>
        {error ? (
          <p className="app-form__error" role="alert">
            {error.message}{' '}
            {error.existing ? (
              <button type="button" className="app-link-button" onClick={() => onCreated(error.existing as string)}>
                Open it
              </button>
            ) : null}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
