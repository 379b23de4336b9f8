export { FakeAws } from './fake-aws.js';
export type { FakeAwsOptions, FakeCredentials, KmsEntry, RecordedCall } from './fake-aws.js';
