// A local receiver for upload.completed events (scripts/dev.mjs starts it): verifies each
// delivery with the npm `standardwebhooks` package, as your backend would, and prints it.
import { createServer } from "node:http";
import standardwebhooks from "standardwebhooks";

const { Webhook } = standardwebhooks;

/**
 * Listens on 127.0.0.1:`port` (0: any free port) and verifies with `secret` (`whsec_…`).
 * Answers 204 to a verified event and 400 to anything else. Resolves with {url, stop}.
 */
export async function startReceiver({ secret, port = 0, print = console.log }) {
  const webhook = new Webhook(secret);
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      try {
        const event = webhook.verify(body, request.headers);
        const { key, size, content_type: type, file_name: name } = event.data ?? {};
        print(`[webhook] ${event.type} ${request.headers["webhook-id"]} verified: ${key} (${name}, ${size} bytes, ${type})`);
        response.writeHead(204).end();
      } catch (error) {
        print(`[webhook] refused a delivery that does not verify: ${error.message}`);
        response.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/webhook`,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
