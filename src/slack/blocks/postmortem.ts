import type { Incident } from '../../incidents/incident.js';
import { incidentRef } from '../../incidents/incident.js';
import type { PostmortemVersion } from '../../postmortems/ports.js';
import type { PostmortemEdits } from '../../postmortems/postmortem.js';
import { LIMITS } from './limits.js';
import { escapeInline, escapeMrkdwn, truncate } from './mrkdwn.js';
import { type Block, type ModalView, mrkdwn, plainText, type SlackMessage } from './types.js';

export const POSTMORTEM_IDS = {
  edit: 'postmortem.edit',
  redraft: 'postmortem.redraft',
  view: 'postmortem.edit_view',
} as const;

/** The modal's inputs: block and action ids are the edit field's name. */
export const POSTMORTEM_FIELDS: ReadonlyArray<{
  field: keyof PostmortemEdits;
  label: string;
  hint: string;
}> = [
  { field: 'summary', label: 'Summary', hint: 'What happened and what it did to users, in a few sentences.' },
  { field: 'wentWell', label: 'What went well', hint: 'One item per line.' },
  {
    field: 'wentWrong',
    label: 'What went wrong',
    hint: 'One item per line. Systems and decisions, not people.',
  },
  { field: 'gotLucky', label: 'Where we got lucky', hint: 'One item per line.' },
  { field: 'actionItems', label: 'Action items', hint: 'One per line; `- [x]` marks one done.' },
];

const REASON: Record<PostmortemVersion['reason'], string> = {
  resolved: 'drafted when the incident was resolved',
  requested: 'drafted on request',
  edited: 'redrafted with edits',
};

/**
 * The postmortem's message in the incident channel, edited in place as new versions are drafted:
 * its summary, where to read the whole document (the file below it and the API), and the buttons
 * to edit or redraft it.
 */
export function postmortemMessage(
  incident: Incident,
  version: PostmortemVersion,
  apiPath: string,
): SlackMessage {
  const summarySource =
    version.summarySource === 'model'
      ? ' · summary written by a model'
      : version.summarySource === 'edited'
        ? ' · summary edited'
        : '';
  const blocks: Block[] = [
    {
      type: 'header',
      text: plainText(truncate(`📝 Postmortem draft · ${incidentRef(incident)}`, LIMITS.headerText)),
    },
    {
      type: 'section',
      text: mrkdwn(`*${escapeInline(version.title, 200)}*\n${escapeMrkdwn(truncate(version.summary, 2500))}`),
    },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `Version ${version.version}, ${REASON[version.reason]} <!date^${Math.floor(version.createdAt.getTime() / 1000)}^{date_short_pretty} {time}|${version.createdAt.toISOString()}>${summarySource}. ` +
            `The whole document is the file in this thread and \`GET ${escapeMrkdwn(apiPath)}\`. ` +
            'Lessons and action items are seeded from the record: complete them.',
        ),
      ],
    },
    {
      type: 'actions',
      block_id: `postmortem:${incident.id}`,
      elements: [
        {
          type: 'button',
          action_id: POSTMORTEM_IDS.edit,
          text: plainText('Edit summary, lessons and action items'),
          value: String(incident.id),
          style: 'primary',
        },
        {
          type: 'button',
          action_id: POSTMORTEM_IDS.redraft,
          text: plainText('Redraft from the record'),
          value: String(incident.id),
        },
      ],
    },
  ];
  return {
    text: `Postmortem draft v${version.version} for ${incidentRef(incident)}: ${truncate(version.title, 150)}`,
    blocks,
  };
}

/** The edit modal, prefilled with the current text of each field (seeded or edited). */
export function postmortemEditModal(incidentId: number, current: Required<PostmortemEdits>): ModalView {
  return {
    type: 'modal',
    callback_id: POSTMORTEM_IDS.view,
    private_metadata: JSON.stringify({ incidentId }),
    title: plainText(truncate(`Postmortem INC-${incidentId}`, 24)),
    submit: plainText('Save and redraft'),
    close: plainText('Cancel'),
    blocks: POSTMORTEM_FIELDS.map(({ field, label, hint }) => ({
      type: 'input' as const,
      block_id: field,
      optional: true,
      label: plainText(label),
      hint: plainText(hint),
      element: {
        type: 'plain_text_input' as const,
        action_id: field,
        multiline: true,
        max_length: LIMITS.sectionText,
        initial_value: truncate(current[field], LIMITS.sectionText),
      },
    })),
  };
}
