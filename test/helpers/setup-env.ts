// Runs before every test file. argon2id at production cost takes ~130 ms; most tests use a cheap cost and
// a few (test/src/auth/production-cost.test.ts) opt back in to production parameters explicitly.
process.env.ARGON2_MEMORY_KIB ??= '1024';
process.env.ARGON2_TIME_COST ??= '1';
process.env.ARGON2_PARALLELISM ??= '1';
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
