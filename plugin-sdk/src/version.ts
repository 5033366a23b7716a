/** Version of the plugin contract. Plugins declare the range they were built for. */
export const SDK_VERSION = '1.0.0';
