import type { Session } from './session';

// Which screen a path shows; the API decides what each may see.
export const homeOf = (s: Session) => (s.role === 'agent' ? '/console/agent' : '/console/callbacks');

export function Screens({ path }: { path: string; search: URLSearchParams }) {
  return <p>Nothing here yet: {path}</p>;
}
