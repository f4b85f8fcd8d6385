import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, type WebhookVerification } from '../../src/actions/webhook-signature.js';

export const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';

export interface WebhookDelivery {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  verification: WebhookVerification;
}

/** A webhook receiver that verifies signatures and answers what the test says. */
export interface WebhookReceiver {
  url: string;
  deliveries: WebhookDelivery[];
  answer(status: number, body: unknown): void;
  /** The next delivery is recorded but never answered, as if the receiver hung; for crash tests. */
  holdNext(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret = WEBHOOK_SECRET): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = [];
  const answers: Array<{ status: number; body: unknown }> = [];
  let hold = false;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const header = req.headers['x-aisre-signature'];
    deliveries.push({
      headers: req.headers,
      rawBody,
      body: rawBody === '' ? undefined : (JSON.parse(rawBody) as unknown),
      verification: verifyWebhookSignature({
        secret,
        rawBody,
        header: typeof header === 'string' ? header : null,
      }),
    });
    if (hold) {
      hold = false;
      return;
    }
    const next = answers.shift() ?? { status: 200, body: { ok: true } };
    res.writeHead(next.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/aisre`,
    deliveries,
    answer: (status, body) => answers.push({ status, body }),
    holdNext: () => {
      hold = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
