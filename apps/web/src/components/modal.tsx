/**
 * A modal dialog on the native <dialog> element: `showModal()` gives focus trapping, the
 * backdrop, Escape to close and an inert page behind it, with no library.
 */
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { usePhoneLayout } from '../lib/layout.js';
import { useBackCloses } from '../lib/router.js';
import { CloseIcon } from './icons.js';

export interface ModalProps {
  title: string;
  /** A line under the title. */
  subtitle?: ReactNode;
  onClose(): void;
  children: ReactNode;
  /** Buttons at the bottom, right-aligned. */
  footer?: ReactNode;
  size?: 'small' | 'medium' | 'large';
}

export function Modal({ title, subtitle, onClose, children, footer, size = 'medium' }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  // On a phone the back gesture closes the dialog, as it would a screen.
  useBackCloses(usePhoneLayout(), onClose);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`app-modal app-modal--${size}`}
      aria-labelledby={titleId}
      onMouseDown={(e) => {
        // A click on the backdrop (the dialog element itself, outside its box) closes it.
        if (e.target === ref.current) onClose();
      }}
    >
      <div className="app-modal__box">
        <header className="app-modal__header">
          <div>
            <h2 id={titleId} className="app-modal__title">
              {title}
            </h2>
            {subtitle ? <p className="app-modal__subtitle">{subtitle}</p> : null}
          </div>
          <button type="button" className="app-icon-button" aria-label="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        <div className="app-modal__body">{children}</div>
        {footer ? <footer className="app-modal__footer">{footer}</footer> : null}
      </div>
    </dialog>
  );
}
