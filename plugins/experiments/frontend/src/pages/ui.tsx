/** What the experiment pages share: the SDK's form pieces and the words for an experiment's status. */
export { PortalLink, Field, formGrid as grid } from '@orrery/plugin-sdk/frontend';

export const STATUS_WORDS: Record<string, string> = { running: 'Running', stopped: 'Stopped', scheduled: 'Not started', ended: 'Ended' };
