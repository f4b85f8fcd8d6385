import { isStorableId } from '../../storable.js';
/**
 * The subset of Block Kit that aisre produces, typed just enough to catch mistakes in the builders
 * and to let the text renderer walk a message without casts.
 */

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

export type TextObject = PlainText | MrkdwnText;

export interface SelectOption {
  text: PlainText;
  value: string;
  description?: PlainText;
}

export interface ConfirmDialog {
  title: PlainText;
  text: TextObject;
  confirm: PlainText;
  deny: PlainText;
  style?: 'primary' | 'danger';
}

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainText;
  value?: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmDialog;
}

export interface StaticSelectElement {
  type: 'static_select';
  action_id: string;
  placeholder?: PlainText;
  options: SelectOption[];
  initial_option?: SelectOption;
}

export interface PlainTextInputElement {
  type: 'plain_text_input';
  action_id: string;
  placeholder?: PlainText;
  multiline?: boolean;
  max_length?: number;
  initial_value?: string;
}

export type InteractiveElement = ButtonElement | StaticSelectElement;

export interface HeaderBlock {
  type: 'header';
  block_id?: string;
  text: PlainText;
}

export interface SectionBlock {
  type: 'section';
  block_id?: string;
  text?: TextObject;
  fields?: TextObject[];
  accessory?: InteractiveElement;
}

export interface ContextBlock {
  type: 'context';
  block_id?: string;
  elements: TextObject[];
}

export interface DividerBlock {
  type: 'divider';
  block_id?: string;
}

export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: InteractiveElement[];
}

export interface InputBlock {
  type: 'input';
  block_id: string;
  label: PlainText;
  element: PlainTextInputElement | StaticSelectElement;
  optional?: boolean;
  hint?: PlainText;
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | DividerBlock | ActionsBlock | InputBlock;

/** A chat message: `text` is the fallback shown in notifications and by clients without Block Kit. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export interface HomeView {
  type: 'home';
  blocks: Block[];
}

export interface ModalView {
  type: 'modal';
  callback_id: string;
  title: PlainText;
  submit?: PlainText;
  close?: PlainText;
  private_metadata?: string;
  blocks: Block[];
}

export type SlackView = HomeView | ModalView;

/**
 * Action ids of the interactive elements on incident messages. Buttons carry the incident id as
 * their `value`; the severity select carries the severity, so its actions block carries the incident
 * id in its `block_id` (see `incidentActionsBlockId`).
 */
export const ACTION_IDS = {
  acknowledge: 'incident.acknowledge',
  startDiagnosis: 'incident.start_diagnosis',
  changeSeverity: 'incident.change_severity',
  resolve: 'incident.resolve',
  openDeclareModal: 'incident.declare_open',
} as const;

/** Callback ids of the views aisre opens. */
export const VIEW_IDS = {
  declare: 'incident.declare',
} as const;

/** Where each input of the declare modal lives in `view.state.values[block][action]`. */
export const DECLARE_MODAL_IDS = {
  title: { block: 'title', action: 'title' },
  severity: { block: 'severity', action: 'severity' },
  service: { block: 'service', action: 'service' },
  description: { block: 'description', action: 'description' },
} as const;

/** A plain_text object; emoji shortcodes are enabled because every caller wants them. */
export function plainText(text: string): PlainText {
  return { type: 'plain_text', text, emoji: true };
}

/** A mrkdwn object. The caller is responsible for escaping untrusted parts of `text`. */
export function mrkdwn(text: string): MrkdwnText {
  return { type: 'mrkdwn', text };
}

/** The `block_id` of an incident's actions block, which tells the severity select's handler the incident. */
export function incidentActionsBlockId(incidentId: number): string {
  return `incident_actions:${incidentId}`;
}

/** The incident id encoded by `incidentActionsBlockId`, or null for any other block id. */
export function parseIncidentActionsBlockId(blockId: string): number | null {
  const match = /^incident_actions:([1-9][0-9]{0,14})$/.exec(blockId);
  const id = match?.[1] ? Number(match[1]) : null;
  return id !== null && isStorableId(id) ? id : null;
}
