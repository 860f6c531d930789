import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { registerUiRoutes } from './ui-routes.ts';

const app = Fastify();
registerUiRoutes(app);
afterAll(() => app.close());

describe('web UI routes', () => {
  it('serves the shell for every page and redirects the root', async () => {
    for (const page of ['runs', 'compare', 'models', 'data']) {
      const res = await app.inject(`/ui/${page}?run=a&key=loss`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('/ui/assets/app.js');
    }
    expect((await app.inject('/ui')).headers.location).toBe('/ui/runs');
    expect((await app.inject('/ui/unknown')).statusCode).toBe(404);
  });

  it('bundles the browser code and needs nothing from another host', async () => {
    const js = await app.inject('/ui/assets/app.js');
    const css = await app.inject('/ui/assets/app.css');
    const html = await app.inject('/ui/runs');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.body).toContain('__runstream');
    expect(css.headers['content-type']).toContain('text/css');
    for (const body of [js.body, css.body, html.body]) expect(body).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
  });
});
