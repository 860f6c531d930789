// Entry point: the top bar (navigation and token entry) and the page named by the path /ui/<page>.
import { storeToken, storedToken } from './api-client.ts';
import { h } from './dom.ts';
import { showError } from './page-status.ts';
import { renderComparePage } from './pages/compare-page.ts';
import { renderDataPage } from './pages/data-page.ts';
import { renderModelsPage } from './pages/models-page.ts';
import { renderMonitorsPage } from './pages/monitors-page.ts';
import { renderRanksPage } from './pages/ranks-page.ts';
import { renderRunsPage } from './pages/runs-page.ts';

const PAGES: Record<string, { title: string; render: (root: HTMLElement) => Promise<void> }> = {
  runs: { title: 'Runs', render: renderRunsPage },
  compare: { title: 'Compare', render: renderComparePage },
  ranks: { title: 'Ranks', render: renderRanksPage },
  models: { title: 'Model versions', render: renderModelsPage },
  data: { title: 'Data', render: renderDataPage },
  monitors: { title: 'Monitoring', render: renderMonitorsPage },
};

function currentPage(): string {
  const name = location.pathname.replace(/^\/ui\/?/, '').split('/')[0] ?? '';
  return name in PAGES ? name : 'runs';
}

function renderTopbar(active: string): void {
  const input = h('input', { type: 'password', id: 'token-input', placeholder: 'API token', value: storedToken(), autocomplete: 'off' });
  const form = h(
    'form',
    {
      class: 'token-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        storeToken(input.value.trim());
        location.reload();
      },
    },
    input,
    h('button', { type: 'submit' }, 'Use token'),
  );
  document.getElementById('topbar')!.replaceChildren(
    h('a', { class: 'brand', href: '/ui/runs' }, 'Runstream'),
    h('nav', {}, ...Object.entries(PAGES).map(([name, p]) => h('a', { href: `/ui/${name}`, class: name === active ? 'active' : undefined }, p.title))),
    form,
  );
}

async function start(): Promise<void> {
  const page = currentPage();
  renderTopbar(page);
  document.title = `${PAGES[page]!.title} · Runstream`;
  const root = document.getElementById('app')!;
  root.replaceChildren(h('div', { id: 'status-banner', class: 'banner', hidden: true }));
  const body = h('div', { class: 'page' });
  root.append(body);
  try {
    await PAGES[page]!.render(body);
  } catch (err) {
    showError(err);
  }
}

window.addEventListener('unhandledrejection', (e) => showError(e.reason));
void start();
