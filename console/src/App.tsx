import { useEffect, useState } from 'react';
import { api, setCsrf } from './api';
import { SignIn } from './pages/SignIn';
import { Link, navigate, useLocation } from './router';
import { SessionContext, type Session } from './session';
import { Screens, homeOf } from './screens';

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const here = useLocation();
  useEffect(() => {
    void api.GET('/session').then((r) => setSession(r.data ?? null));
  }, []);
  useEffect(() => setCsrf(session?.csrf ?? null), [session]);
  useEffect(() => {
    if (session && !here.pathname.startsWith('/console/')) navigate(homeOf(session));
  }, [session, here.pathname]);

  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    await api.POST('/sign-out');
    setCsrf(null);
    setSession(null);
    navigate('/');
  };
  const manager = session.role !== 'agent';
  return (
    <SessionContext.Provider value={session}>
      <header className="top">
        <strong>callbackd</strong>
        <nav aria-label="Screens">
          {manager && <Link to="/console/callbacks">Callbacks</Link>}
          {session.agentId && <Link to="/console/agent">My callbacks</Link>}
          {manager && <Link to="/console/dashboard">Dashboard</Link>}
          {manager && session.leadModify && <Link to="/console/purge">Purge</Link>}
          {session.role === 'admin' && <Link to="/console/admin">Admin</Link>}
        </nav>
        <span className="who">
          {session.user} ({session.role})
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Screens path={here.pathname} search={here.searchParams} />
      </main>
    </SessionContext.Provider>
  );
}
