/**
 * No answer the bot gives cites the team's model page by number ("(docs/model.md)", "docs/model.md"): users do not have
 * it. Asked on the bundled demo, as plain text and as Slack blocks: every Service explained, a
 * pair, the at-risk list, what-ifs and help.
 */
import { ask } from '../src/console';

const PAGE_CITATION = /\(F[0-9]+|F[0-9]+\)|§/;
const citations = (text: string): string[] => text.split('\n').filter((l) => PAGE_CITATION.test(l));

async function answer(question: string, blocks: boolean): Promise<string> {
  let out = '';
  const code = await ask(['--demo', ...(blocks ? ['--blocks'] : []), question], {
    stdout: (s) => (out += s),
    stderr: (s) => (out += s),
    env: {},
  });
  expect(code).toBe(0);
  return out;
}

const QUESTIONS = [
  ...[
    'payments/payments-api',
    'orders/orders-api',
    'inventory/inventory-api',
    'search/search-api',
    'web/storefront',
    'reports/reports-api',
    'catalog/catalog',
  ].map((s) => `why is ${s} timing out`),
  'is payments at risk',
  'why does checkout time out calling payments',
  'which services are at risk',
  'what if payments used Cluster',
  'what if payments had prevent-loopback',
  'what if we moved the clients of payments',
  'what if kube-proxy were tke-fixed',
  'what if we called payments via its ClusterIP',
  'help',
];

test.each(QUESTIONS)('%s', async (question) => {
  for (const blocks of [false, true]) {
    const text = await answer(question, blocks);
    expect(text.length).toBeGreaterThan(20);
    expect(citations(blocks ? JSON.stringify(JSON.parse(text), null, 1) : text)).toEqual([]);
  }
});
