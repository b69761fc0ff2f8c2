// The page's shell: a skip link, the navigation (one link per page, the current one marked for
// screen readers), the sign-in panel and the page the address's #fragment names. Every page reads
// the services with the keys of the keyring and shows what they answer, refusals included.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DashboardDescription } from './description.ts';
import { loadKeyring, saveKeyring, type Credential, type Keyring } from './keyring.ts';
import { Alerts } from './pages/alerts.tsx';
import { Audit } from './pages/audit.tsx';
import { Devices } from './pages/devices.tsx';
import { Indicators } from './pages/indicators.tsx';
import { Overview } from './pages/overview.tsx';
import { Recoveries } from './pages/recoveries.tsx';
import { RiskLab } from './pages/risk-lab.tsx';
import { SignIn } from './sign-in.tsx';

interface PageProps {
  readonly keyring: Keyring;
  readonly description: DashboardDescription;
}

interface Page {
  readonly path: string;
  readonly title: string;
  readonly render: (props: PageProps) => ComponentChildren;
}

export const pages: readonly Page[] = [
  { path: 'overview', title: 'Overview', render: (props) => <Overview {...props} /> },
  { path: 'alerts', title: 'Alerts', render: (props) => <Alerts keyring={props.keyring} /> },
  { path: 'recoveries', title: 'Recoveries', render: (props) => <Recoveries keyring={props.keyring} /> },
  { path: 'indicators', title: 'Indicators', render: (props) => <Indicators keyring={props.keyring} /> },
  { path: 'audit', title: 'Audit log', render: (props) => <Audit keyring={props.keyring} /> },
  { path: 'devices', title: 'Devices', render: (props) => <Devices {...props} /> },
  { path: 'risk-lab', title: 'Risk lab', render: () => <RiskLab /> },
];

function currentPath(): string {
  const path = window.location.hash.replace(/^#\/?/, '');
  return pages.some((page) => page.path === path) ? path : 'overview';
}

export function App(props: { readonly description: DashboardDescription }) {
  const [keyring, setKeyring] = useState<Keyring>(() => loadKeyring());
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const follow = () => {
      setPath(currentPath());
      document.getElementById('main')?.focus();
    };
    window.addEventListener('hashchange', follow);
    return () => {
      window.removeEventListener('hashchange', follow);
    };
  }, []);
  const change = (next: Keyring) => {
    saveKeyring(next);
    setKeyring(next);
  };
  const signIn = (credential: Credential) => {
    change(new Map([...keyring, [credential.service, credential]]));
  };
  const signOut = (service: string) => {
    change(new Map([...keyring].filter(([name]) => name !== service)));
  };
  const page = pages.find((item) => item.path === path) ?? pages[0];
  return (
    <>
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header>
        <h1>Monitoring room</h1>
        <nav aria-label="Pages">
          <ul>
            {pages.map((item) => (
              <li key={item.path}>
                <a href={`#/${item.path}`} aria-current={item.path === path ? 'page' : undefined}>
                  {item.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page === undefined ? null : page.render({ keyring, description: props.description })}
        <SignIn description={props.description} keyring={keyring} onSignIn={signIn} onSignOut={signOut} />
      </main>
    </>
  );
}
