import { ApiFailure } from '../api';

/** The API's own message, shown as it is (the API decides and explains). */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiFailure ? error.message : String(error);
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}
