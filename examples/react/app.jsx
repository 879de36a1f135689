// The seed's React form (a file input and a submit button), finished with the worker's client:
// uploadFile asks the worker for a signed form and posts the file straight to the bucket, so
// the seed's two axios calls, its FormData loop and its error handling become one call.
// scripts/build-examples.mjs bundles this, React and web/client.js into web/examples/react/.
import { useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { uploadFile, UploadError } from "../../web/client.js";

// The worker that signs uploads: "" is the origin this page came from (the worker serves it at
// /examples/react/ when DEMO_PAGE is on). A page elsewhere names the worker here, and the
// worker lists that page's origin in ALLOWED_ORIGINS.
const ENDPOINT = "";

function UploadForm() {
  const [progress, setProgress] = useState(null); // null until an upload starts, then 0 to 1
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const upload = useRef(null); // the AbortController of the upload in flight

  const handleSubmit = async (e) => {
    e.preventDefault();
    const file = new FormData(e.target).get("my_file");
    upload.current = new AbortController();
    setBusy(true);
    setResult(null);
    setError(null);
    setProgress(0);
    try {
      setResult(await uploadFile(file, {
        endpoint: ENDPOINT,
        signal: upload.current.signal,
        onProgress: ({ fraction }) => setProgress(fraction),
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
      <form onSubmit={handleSubmit}>
        <input type="file" name="my_file" id="my_file" required disabled={busy} />
        <button type="submit" disabled={busy}>Submit</button>
        <button type="button" onClick={() => upload.current?.abort()} disabled={!busy}>Abort</button>
      </form>
      {progress !== null && <progress value={progress} max={1} aria-label="Upload progress" />}
      {result && <p data-testid="result">Stored as <code>{result.key}</code></p>}
      {error && (
        <p className="error" role="alert" data-testid="error">
          <code>{error.code}</code>: {error.message}
        </p>
      )}
    </>
  );
}

createRoot(document.getElementById("root")).render(<UploadForm />);
