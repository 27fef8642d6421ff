/**
 * Configuration, one job per module:
 *   schema.ts    the file's typebox schema, the resolved Config, defaults, ConfigError
 *   load.ts      reading config and env files; file + environment + flags → Config
 *   cli.ts       the command line (flags, help) → what to do
 *   describe.ts  config problems in words
 *   security.ts  cross-field rules that keep keys from being exposed
 *   check.ts     what --check-config verifies beyond the values (the log file opens)
 */
export {
  ConfigError,
  ConfigFileSchema,
  BATCHES_DEFAULTS,
  DEFAULTS,
  DEFAULT_DOCUMENT_FETCH,
  FILES_DEFAULTS,
  DEFAULT_STORE_URL,
  RESILIENCE_DEFAULTS,
  UPSTREAM_APIS,
  type UpstreamApiSetting,
  type BatchesConfig,
  type Config,
  type ConfigFile,
  type FilesConfig,
  type UpstreamChoice,
  type DocumentFetchConfig,
  type FallbackTarget,
  type Resilience,
} from "./schema";
export { capabilityOverrides, parseEnvFile, readConfigFile, readEnvFile, resilienceFromFile, resolveConfig, type ConfigFlags } from "./load";
export { HELP, loadCommand, type Command } from "./cli";
export { describeExpected, describeFileErrors } from "./describe";
export { checkSecurity, exposedKeys, isLoopback } from "./security";
export { logFileProblem } from "./check";
