import { SEVERITIES, type Severity } from '../../incidents/incident.js';
import { LIMITS } from './limits.js';
import { DECLARE_MODAL_IDS, type ModalView, plainText, type SelectOption, VIEW_IDS } from './types.js';

const DEFAULT_SEVERITY: Severity = 'SEV3';

const SEVERITY_DESCRIPTIONS: Record<Severity, string> = {
  SEV1: 'Critical: users broadly affected or data at risk',
  SEV2: 'Major: a key feature is down or badly degraded',
  SEV3: 'Minor: limited impact, a workaround exists',
  SEV4: 'Low: little or no user impact yet',
};

/** What the declare modal carries from where it was opened to its submission. */
export interface DeclareModalMetadata {
  channelId?: string;
}

function severityOption(severity: Severity): SelectOption {
  return {
    text: plainText(severity),
    value: severity,
    description: plainText(SEVERITY_DESCRIPTIONS[severity]),
  };
}

/**
 * The "Declare incident" modal. `channelId` is where it was opened from, kept in `private_metadata`
 * so that the submission can answer there.
 */
export function declareIncidentModal(options: { channelId?: string } = {}): ModalView {
  const metadata: DeclareModalMetadata = options.channelId ? { channelId: options.channelId } : {};
  return {
    type: 'modal',
    callback_id: VIEW_IDS.declare,
    private_metadata: JSON.stringify(metadata),
    title: plainText('Declare incident'),
    submit: plainText('Declare'),
    close: plainText('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: DECLARE_MODAL_IDS.title.block,
        label: plainText('Title'),
        element: {
          type: 'plain_text_input',
          action_id: DECLARE_MODAL_IDS.title.action,
          // The title becomes the card's header, which Slack cuts at 150 characters.
          max_length: LIMITS.headerText,
          placeholder: plainText('e.g. Chat answers cite the wrong documents'),
        },
      },
      {
        type: 'input',
        block_id: DECLARE_MODAL_IDS.severity.block,
        label: plainText('Severity'),
        element: {
          type: 'static_select',
          action_id: DECLARE_MODAL_IDS.severity.action,
          options: SEVERITIES.map(severityOption),
          initial_option: severityOption(DEFAULT_SEVERITY),
        },
      },
      {
        type: 'input',
        block_id: DECLARE_MODAL_IDS.service.block,
        optional: true,
        label: plainText('Service'),
        element: {
          type: 'plain_text_input',
          action_id: DECLARE_MODAL_IDS.service.action,
          max_length: 100,
          placeholder: plainText('e.g. rag-api'),
        },
      },
      {
        type: 'input',
        block_id: DECLARE_MODAL_IDS.description.block,
        optional: true,
        label: plainText('What is happening?'),
        element: {
          type: 'plain_text_input',
          action_id: DECLARE_MODAL_IDS.description.action,
          multiline: true,
          max_length: 3000,
          placeholder: plainText('Symptoms, impact, what changed recently'),
        },
      },
    ],
  };
}

/** Reads back `private_metadata` of a declare modal; anything unexpected counts as no channel. */
export function parseDeclareModalMetadata(raw: string | undefined): DeclareModalMetadata {
  try {
    const parsed: unknown = JSON.parse(raw ?? '{}');
    if (typeof parsed === 'object' && parsed !== null && 'channelId' in parsed) {
      const { channelId } = parsed;
      if (typeof channelId === 'string' && channelId !== '') return { channelId };
    }
  } catch {
    // Metadata is ours, but a view opened by an older version must not fail the submission.
  }
  return {};
}
