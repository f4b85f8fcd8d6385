import { isConclusion, type Runbook } from './runbook-schema.js';

/** Mermaid wants its own quoting: `#quot;` inside a quoted label. */
function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/\n/g, ' ')}"`;
}

/**
 * The runbook as a Mermaid flowchart: decision nodes as boxes listing their checks, conclusions
 * as rounded nodes with the layer, solid arrows for outcomes and dotted ones for answers.
 */
export function runbookToMermaid(runbook: Runbook): string {
  const lines = ['flowchart TD'];
  for (const [id, node] of Object.entries(runbook.nodes)) {
    if (isConclusion(node)) {
      lines.push(`  ${id}([${label(`${node.title} · ${node.conclusion.layer}`)}])`);
    } else {
      const checks = node.checks.map((check) => check.title ?? check.id).join(', ');
      lines.push(`  ${id}[${label(checks ? `${node.title}<br/><small>${checks}</small>` : node.title)}]`);
    }
  }
  for (const [id, node] of Object.entries(runbook.nodes)) {
    if (isConclusion(node)) continue;
    node.outcomes.forEach((outcome, index) => {
      lines.push(`  ${id} -->|${label(outcome.reason ?? `outcome ${index + 1}`)}| ${outcome.next}`);
    });
    if (node.otherwise) lines.push(`  ${id} -->|${label('otherwise')}| ${node.otherwise}`);
    for (const answer of node.question?.answers ?? []) {
      lines.push(`  ${id} -.->|${label(answer.label)}| ${answer.next}`);
    }
  }
  lines.push(`  style ${runbook.start} stroke-width:3px`);
  return `${lines.join('\n')}\n`;
}
