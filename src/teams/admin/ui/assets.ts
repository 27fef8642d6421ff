/** The dashboard's files, embedded at build time, by their path under /admin/. */
import { embedded } from "./embed" with { type: "macro" };

export interface Asset {
  body: string;
  type: string;
}

const page: Asset = { body: embedded("index.html"), type: "text/html; charset=utf-8" };
const js = (body: string): Asset => ({ body, type: "text/javascript; charset=utf-8" });

export const ASSETS: Readonly<Record<string, Asset>> = {
  "": page,
  "index.html": page,
  "app.js": js(embedded("app.js")),
  "client.js": js(embedded("client.js")),
  "chart.js": js(embedded("chart.js")),
  "style.css": { body: embedded("style.css"), type: "text/css; charset=utf-8" },
};
