// The chart's CRDs are the repository's crds/*.yaml, not a copy: charts/pinfi/files/crds is a
// symbolic link to crds/, and templates/crds.yaml re-emits each file with the chart's labels and
// the keep policy. These tests make the two impossible to drift apart: the link must point at
// crds/, every CRD file must be rendered, and each rendered CRD must equal its file except for
// the metadata the chart adds.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../env/paths.js';
import { CHART_DIR, render, type K8sObject } from './helm.js';

const CRDS_DIR = join(repoRoot, 'crds');
const crdFiles = readdirSync(CRDS_DIR).filter((f) => f.endsWith('.yaml')).sort();
const fromFile = (f: string): K8sObject => parse(readFileSync(join(CRDS_DIR, f), 'utf8')) as K8sObject;
const crdsOf = (objs: K8sObject[]): K8sObject[] => objs.filter((o) => o.kind === 'CustomResourceDefinition');

let rendered: K8sObject[];
beforeAll(async () => {
  rendered = crdsOf(await render({}));
});

test('the chart reads the CRDs through a symbolic link to the repository crds/ folder', () => {
  const link = join(CHART_DIR, 'files', 'crds');
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readlinkSync(link)).toBe('../../../crds'); // relative: works in every clone
  expect(realpathSync(link)).toBe(realpathSync(CRDS_DIR));
});

test('each CRD file holds exactly one CustomResourceDefinition (the template reads one per file)', () => {
  expect(crdFiles.length).toBeGreaterThanOrEqual(2);
  for (const f of crdFiles) {
    const docs = parseAllDocuments(readFileSync(join(CRDS_DIR, f), 'utf8')).filter((d) => d.contents !== null);
    expect({ file: f, documents: docs.length, kind: (docs[0]?.toJS() as K8sObject).kind }).toEqual({ file: f, documents: 1, kind: 'CustomResourceDefinition' });
  }
});

test('every CRD in crds/ is rendered, and nothing else', () => {
  expect(rendered.map((c) => c.metadata.name).sort()).toEqual(crdFiles.map((f) => fromFile(f).metadata.name).sort());
});

test.each(crdFiles)('%s renders identical to the file apart from the chart metadata', (file) => {
  const source = fromFile(file);
  const crd = rendered.find((c) => c.metadata.name === source.metadata.name) as K8sObject;
  const { metadata: m1, ...body1 } = crd;
  const { metadata: m0, ...body0 } = source;
  expect(body1).toEqual(body0); // spec (schemas, CEL rules, printer columns), apiVersion, kind
  const { labels: l1, annotations: a1, ...rest1 } = m1;
  const { labels: l0, annotations: a0, ...rest0 } = m0;
  expect(rest1).toEqual(rest0);
  // The file's own labels and annotations survive; the chart adds its labels and the keep policy.
  expect(l1).toEqual(expect.objectContaining({ ...l0, 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': 'pinfi', 'app.kubernetes.io/component': 'crds' }));
  expect(a1).toEqual({ ...a0, 'helm.sh/resource-policy': 'keep' });
});

test('crds.keep=false leaves the keep policy out; crds.enabled=false leaves the CRDs out', async () => {
  const unkept = crdsOf(await render({ crds: { keep: false } }));
  expect(unkept).toHaveLength(crdFiles.length);
  for (const c of unkept) expect(c.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
  expect(crdsOf(await render({ crds: { enabled: false } }))).toEqual([]);
});
