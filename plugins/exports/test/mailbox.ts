/**
 * A real SMTP server on loopback that keeps every message, and a small MIME
 * reader for what nodemailer sends (multipart, base64 or quoted-printable parts).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MailPart {
  headers: Record<string, string>;
  contentType: string;
  filename: string | null;
  body: Buffer;
}
export interface Mail {
  to: string[];
  subject: string;
  raw: string;
  parts: MailPart[];
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function decode(body: string, encoding: string | undefined): Buffer {
  if (/base64/i.test(encoding ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (/quoted-printable/i.test(encoding ?? '')) {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1');
  }
  return Buffer.from(body, 'utf8');
}

/** Leaf parts of a MIME entity, depth first. */
function leaves(entity: string): MailPart[] {
  const split = entity.indexOf('\r\n\r\n');
  const headers = parseHeaders(entity.slice(0, split));
  const body = entity.slice(split + 4);
  const ct = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
  if (/^multipart\//i.test(ct) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'))
      .flatMap((p) => leaves(p.replace(/^\r\n/, '').replace(/\r\n$/, '')));
  }
  const filename = /filename="?([^";]+)"?/i.exec(headers['content-disposition'] ?? '')?.[1] ?? /name="?([^";]+)"?/i.exec(ct)?.[1] ?? null;
  return [{ headers, contentType: ct.split(';')[0]!.trim().toLowerCase(), filename, body: decode(body, headers['content-transfer-encoding']) }];
}

/** RFC 2047 encoded words (what nodemailer writes for a non-ASCII subject). */
function decodeWords(header: string): string {
  return header.replace(/\s*=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
    const bytes = /b/i.test(enc)
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return new TextDecoder(charset).decode(bytes);
  });
}

export async function startMailbox() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 50 * 1024 * 1024,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeWords(parseHeaders(raw.slice(0, raw.indexOf('\r\n\r\n'))).subject ?? ''),
          raw,
          parts: leaves(raw),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(to: string, count = 1, timeoutMs = 20_000): Promise<Mail> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = mails.filter((m) => m.to.includes(to));
        if (got.length >= count) return got[count - 1]!;
        if (Date.now() > deadline) throw new Error(`no mail #${count} to ${to} within ${timeoutMs} ms (have ${mails.length})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
