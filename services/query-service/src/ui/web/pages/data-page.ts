// Data: quality table and drift report of a dataset.
import { h } from '../dom.ts';
import { setStatus } from '../page-status.ts';

export async function renderDataPage(root: HTMLElement): Promise<void> {
  root.append(h('h1', {}, 'Data'), h('p', { class: 'empty' }, 'Data quality and drift views are not served by this version of the query service.'));
  setStatus('ready');
}
