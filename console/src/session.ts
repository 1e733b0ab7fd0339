import { createContext, useContext } from 'react';
import type { paths } from './api-types';

export type Session = paths['/session']['get']['responses'][200]['content']['application/json'];

export const SessionContext = createContext<Session | null>(null);
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in screen');
  return s;
}
