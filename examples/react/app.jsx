// The seed's React form (a file input and a submit button), finished with the worker's client:
// uploadFile asks the worker for a signed form and posts the file straight to the bucket, so
// the seed's two axios calls, its FormData loop and its error handling become one call. What
// a page people use needs besides: the worker's limit before choosing (GET /uploads/limits),
// progress in bytes and percent, an Abort that cancels the request in flight, the caller's
// token, and each of the worker's refusals said by its code.
// scripts/build-examples.mjs bundles this, React and web/client.js into web/examples/react/.
import { useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { limits, uploadFile, UploadError } from "../../web/client.js";

// The worker that signs uploads: "" is the origin this page came from (the worker serves it at
// /examples/react/ when DEMO_PAGE is on). A page elsewhere names the worker here, and the
// worker lists that page's origin in ALLOWED_ORIGINS.
const ENDPOINT = "";

// The caller's token, when the worker checks tokens (UPLOAD_AUTH_SECRET or UPLOAD_AUTH_JWKS_URL):
// your sign-in puts it where this reads it. Read for every call to the worker, so a refreshed
// token is used; "" sends none (a worker with auth off needs none).
const token = () => sessionStorage.getItem("upload-token") ?? "";

/**
 * What to tell the person, by the worker's code: its own message where it explains the
 * refusal (a size, a type), and what to do where the code is about the caller, not the file.
 */
function explain(error) {
  switch (error.code) {
    case "rate_limited":
      return `Too many uploads from here; try again in ${error.retryAfter ?? "a few"} s. (${error.message})`;
    case "unauthorized":
      return `Please sign in again. (${error.message})`;
    case "aborted":
      return "Upload cancelled; nothing was stored.";
    case "network_error":
      return `The connection failed; check it and try again. (${error.message})`;
    default:
      // file_too_large, content_type_not_allowed, …: the worker's words (or the bucket's).
      return error.message;
  }
}

const percent = ({ loaded, total }) => (total ? Math.floor((loaded / total) * 100) : 0);

function UploadForm() {
  const [said, setSaid] = useState(null); // the worker's limits, once it answered
  const [progress, setProgress] = useState(null); // {loaded, total} once an upload starts
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const upload = useRef(null); // the AbortController of the upload in flight

  useEffect(() => {
    const asking = new AbortController();
    limits({ endpoint: ENDPOINT, token, signal: asking.signal }).then(setSaid, () => {}); // only a hint
    return () => asking.abort();
  }, []);

  const handleSubmit = async (e) => {
    e.preventDefault();
    const file = new FormData(e.target).get("my_file");
    upload.current = new AbortController();
    setBusy(true);
    setResult(null);
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    try {
      setResult(await uploadFile(file, {
        endpoint: ENDPOINT,
        token,
        signal: upload.current.signal, // abort() cancels the worker's call or the upload's XHR
        // `fraction` of the file (a form's own bytes are part of what `loaded` counts).
        onProgress: ({ fraction }) => setProgress({ loaded: Math.round(fraction * file.size), total: file.size }),
      }));
    } catch (failure) {
      // Every refusal (worker, bucket, network, abort) is an UploadError; anything else is a bug.
      setError(failure instanceof UploadError ? failure : { code: "unexpected", message: String(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {said && (
        <p data-testid="limits">
          Files up to {said.maxBytes} bytes
          {said.allowedTypes.length > 0 && <> of type {said.allowedTypes.join(", ")}</>}.
        </p>
      )}
      <form onSubmit={handleSubmit}>
        <input type="file" name="my_file" id="my_file" required disabled={busy} />
        <button type="submit" disabled={busy}>Submit</button>
        <button type="button" onClick={() => upload.current?.abort()} disabled={!busy}>Abort</button>
      </form>
      {progress && (
        <>
          <progress value={progress.loaded} max={progress.total || 1} aria-label="Upload progress" />
          <p data-testid="progress">{progress.loaded} of {progress.total} bytes ({percent(progress)} %)</p>
        </>
      )}
      {result && <p data-testid="result">Stored as <code>{result.key}</code></p>}
      {error && (
        <p className="error" role="alert" data-testid="error">
          <code>{error.code}</code>: {explain(error)}
        </p>
      )}
    </>
  );
}

createRoot(document.getElementById("root")).render(<UploadForm />);
