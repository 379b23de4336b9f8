/**
 * This extension's version, sent as the `dd_extension_version` tag and the stats payloads'
 * AgentVersion. The same as this package's package.json version (a test keeps them equal).
 */
export const EXTENSION_VERSION = '0.1.0';
