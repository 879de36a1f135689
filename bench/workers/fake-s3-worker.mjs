// The store behind bench/run's completion row, at once and in process (the worker's
// globalOutbound): HeadObject answered as S3 answers it for the object post-complete.lua names,
// and anything else (the webhook delivery) taken with 204. What is measured is then the worker's
// own work on POST /uploads/complete, not a network.
const DISPOSITION = `inline; filename="holiday photo.JPG"; filename*=UTF-8''holiday%20photo.JPG`;

export default {
  async fetch(request) {
    if (request.method !== "HEAD") return new Response(null, { status: 204 });
    return new Response(null, {
      headers: {
        "Content-Length": "123456",
        "Content-Type": "image/jpeg",
        "Content-Disposition": DISPOSITION,
        ETag: '"9b2cf535f27731c974343645a3985328"',
      },
    });
  },
};
