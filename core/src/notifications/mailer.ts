import type { Transporter } from 'nodemailer';
import type { Mailer } from '@orrery/plugin-sdk';

/**
 * Email to any addresses through the kernel's SMTP settings, for plugins (`ctx.mail`):
 * alert contact points, scheduled reports. nodemailer is loaded on the first message.
 */
export function createMailer(opts: { smtpUrl: string; from: string }): Mailer {
  let transport: Promise<Transporter> | null = null;
  const get = () => (transport ??= import('nodemailer').then((m) => m.default.createTransport(opts.smtpUrl)));
  return {
    configured: !!opts.smtpUrl,
    async send(m) {
      if (!opts.smtpUrl) throw new Error('no SMTP server configured (smtp.url)');
      if (!m.to.length) throw new Error('no recipient');
      await (await get()).sendMail({
        from: opts.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
        ...(m.attachments?.length ? { attachments: m.attachments.map((a) => ({ filename: a.filename, content: Buffer.from(a.content), contentType: a.contentType })) } : {}),
      });
    },
  };
}
