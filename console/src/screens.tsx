import { AdminPage, DncPage } from './pages/Admin';
import { AgentPage } from './pages/Agent';
import { CallbackDetail } from './pages/CallbackDetail';
import { CallbacksPage } from './pages/Callbacks';
import { DashboardPage } from './pages/Dashboard';
import { PurgeForm } from './pages/Purge';
import type { Session } from './session';

// Which screen a path shows. Client paths live under /console/ so none shadows an API route.
export const homeOf = (s: Session) => (s.role === 'agent' ? '/console/agent' : '/console/callbacks');

export function Screens({ path, search }: { path: string; search: URLSearchParams }) {
  const detail = /^\/console\/callbacks\/(\d+)$/.exec(path);
  if (detail) return <CallbackDetail id={Number(detail[1])} />;
  if (path === '/console/callbacks') return <CallbacksPage search={search} />;
  if (path === '/console/purge') return <PurgeForm />;
  if (path === '/console/agent') return <AgentPage />;
  if (path === '/console/dashboard') return <DashboardPage />;
  if (path === '/console/admin/dnc') return <DncPage />;
  const admin = /^\/console\/admin(?:\/(\w+))?$/.exec(path);
  if (admin) return <AdminPage entity={admin[1] ?? 'campaigns'} />;
  return (
    <section>
      <h1>Not found</h1>
      <p role="alert">No screen at {path}.</p>
    </section>
  );
}
