import { useState } from 'react';
import { Icon } from './Icon.tsx';

/**
 * Copies text; falls back to selecting the given field so Ctrl+C works where the
 * clipboard API is refused (plain http on a LAN address is not a secure context).
 */
export function CopyButton({ text, label = 'Copy', fallbackId, className = 'btn btn--small' }: { text: string; label?: string; fallbackId?: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      const el = fallbackId ? (document.getElementById(fallbackId) as HTMLInputElement | HTMLTextAreaElement | null) : null;
      el?.focus();
      el?.select();
      setCopied(Boolean(el && document.execCommand?.('copy')));
    }
    setTimeout(() => setCopied(false), 2500);
  };
  return (
    <button type="button" className={className} onClick={() => void copy()} aria-label={copied ? `${label}: copied` : label}>
      <Icon name={copied ? 'check' : 'copy'} /> {copied ? 'Copied' : label}
    </button>
  );
}
