/** What the alert pages share: the SDK's form pieces and the words for a rule's states. */
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

