/** What the alert pages share: the SDK's form pieces and the words for a rule's states. */
import type { BadgeTone } from '@orrery/plugin-sdk/frontend';
export { PortalLink, Field, useAction, ActionStatus, ListInput, formGrid as grid } from '@orrery/plugin-sdk/frontend';

export const STATE_WORDS: Record<string, string> = {
  normal: 'Normal',
  pending: 'Pending',
  firing: 'Firing',
  recovering: 'Recovering',
  nodata: 'No data',
  error: 'Error',
  paused: 'Paused',
};


/** The colour a state's badge takes: firing and errors stand out, pending and no data warn. */
export const STATE_TONES: Record<string, BadgeTone> = {
  normal: 'good',
  pending: 'warn',
  firing: 'bad',
  recovering: 'info',
  nodata: 'warn',
  error: 'bad',
  paused: 'neutral',
};
