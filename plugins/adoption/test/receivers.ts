/**
 * Real network receivers for notification tests: a minimal SMTP server (enough
 * of RFC 5321 for nodemailer: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and
 * an HTTP endpoint standing in for a Slack incoming webhook. Both listen on
 * loopback and record what they receive.
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  body: string;
}

export async function startSmtp(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.setEncoding('utf8');
    let from = '';
    let to: string[] = [];
    let data: string | null = null;
    let buf = '';
    const reply = (line: string) => sock.write(`${line}\r\n`);
    reply('220 localhost ESMTP test');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end === -1) return;
          data += buf.slice(0, end);
          buf = buf.slice(end + 5);
          const raw = data.replace(/\r\n\.\./g, '\r\n.');
          const [head, ...rest] = raw.split('\r\n\r\n');
          const subject = /^Subject: (.*(?:\r\n[ \t].*)*)$/im.exec(head ?? '')?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '';
          mails.push({ from, to, subject: decodeMime(subject), body: rest.join('\r\n\r\n') });
          data = null;
          from = '';
          to = [];
          reply('250 OK queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') sock.write('250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        else if (cmd === 'HELO') reply('250 localhost');
        else if (cmd === 'MAIL') {
          from = /<(.*)>/.exec(line)?.[1] ?? '';
          reply('250 OK');
        } else if (cmd === 'RCPT') {
          to.push(/<(.*)>/.exec(line)?.[1] ?? '');
          reply('250 OK');
        } else if (cmd === 'DATA') {
          data = '';
          reply('354 end with <CRLF>.<CRLF>');
        } else if (cmd === 'RSET') {
          from = '';
          to = [];
          reply('250 OK');
        } else if (cmd === 'NOOP') reply('250 OK');
        else if (cmd === 'QUIT') {
          reply('221 bye');
          sock.end();
        } else reply('502 command not implemented');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Decodes RFC 2047 encoded words (nodemailer encodes non-ASCII subjects). */
function decodeMime(s: string) {
  return s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

export async function startWebhook(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createHttpServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(JSON.parse(b));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/hook`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
