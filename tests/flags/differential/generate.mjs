// Evaluates every case below with @openfeature/flagd-core and prints the
// expectations keel's differential test (differential_test.cc) checks.
// Usage: npm install && node generate.mjs > expectations.json
import { FlagdCore } from '@openfeature/flagd-core';

const flags = {
  $evaluators: {
    isStaff: { ends_with: [{ var: 'email' }, '@example.com'] },
  },
  metadata: { team: 'growth' },
  flags: {
    'static-bool': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'disabled': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'no-default': {
      state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: null,
      targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'b', null] },
    },
    'staff': {
      state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off',
      targeting: { if: [{ $ref: 'isStaff' }, 'on', 'off'] },
    },
    'rollout': {
      state: 'ENABLED', variants: { red: 'red', green: 'green', blue: 'blue' }, defaultVariant: 'red',
      targeting: { fractional: [['red', 25], ['green', 50], ['blue', 25]] },
    },
    'rollout-by-email': {
      state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a',
      targeting: { fractional: [{ var: 'email' }, ['a'], ['b']] },
    },
    'rollout-by-cat': {
      state: 'ENABLED', variants: { a: 1, b: 2, c: 3 }, defaultVariant: 'a',
      targeting: { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'org' }] }, ['a', 10], ['b', 20], ['c', 70]] },
    },
    'version-gate': {
      state: 'ENABLED', variants: { new: 'new', old: 'old' }, defaultVariant: 'old',
      targeting: {
        if: [
          { sem_ver: [{ var: 'version' }, '>=', '2.1.0'] }, 'new',
          { sem_ver: [{ var: 'version' }, '~', 'v1.9'] }, 'new',
          'old',
        ],
      },
    },
    'caret': {
      state: 'ENABLED', variants: { yes: true, no: false }, defaultVariant: 'no',
      targeting: { if: [{ sem_ver: [{ var: 'version' }, '^', '3.0.0'] }, 'yes', 'no'] },
    },
    'three-clause': {
      state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off',
      targeting: {
        if: [
          { and: [
            { in: [{ var: 'country' }, ['de', 'fr', 'nl']] },
            { '>=': [{ var: 'age' }, 18] },
            { starts_with: [{ var: 'email' }, 'qa+'] },
          ] },
          'on', 'off',
        ],
      },
    },
    'bool-targeting': {
      state: 'ENABLED', variants: { true: 'yes', false: 'no' }, defaultVariant: 'false',
      targeting: { '>': [{ var: 'score' }, 10] },
    },
    'numbers': {
      state: 'ENABLED', variants: { one: 1, two: 2.5, big: 1000 }, defaultVariant: 'one',
      targeting: {
        if: [
          { '<': [{ '+': [{ var: 'a' }, { var: 'b' }] }, 10] }, 'one',
          { '<=': [10, { '*': [{ var: 'a' }, 2] }, 100] }, 'two',
          'big',
        ],
      },
    },
    'objects': {
      state: 'ENABLED', variants: { small: { seats: 5, tier: 'basic' }, large: { seats: 50, tier: 'pro' } },
      defaultVariant: 'small', metadata: { owner: 'billing', version: 3 },
      targeting: { if: [{ in: ['pro', { var: 'tags' }] }, 'large', null] },
    },
    'strings': {
      state: 'ENABLED', variants: { hello: 'hello', other: 'other' }, defaultVariant: 'other',
      targeting: {
        if: [{ '===': [{ cat: [{ substr: [{ var: 'word' }, 0, 3] }, 'lo'] }, 'hello'] }, 'hello', 'other'],
      },
    },
    'collections': {
      state: 'ENABLED', variants: { all: 'all', some: 'some', none: 'none' }, defaultVariant: 'none',
      targeting: {
        if: [
          { all: [{ var: 'scores' }, { '>': [{ var: '' }, 50] }] }, 'all',
          { some: [{ var: 'scores' }, { '>': [{ var: '' }, 50] }] }, 'some',
          'none',
        ],
      },
    },
    'missing-attr': {
      state: 'ENABLED', variants: { complete: 'complete', incomplete: 'incomplete' }, defaultVariant: 'complete',
      targeting: { if: [{ missing: ['name', 'address.city'] }, 'incomplete', 'complete'] },
    },
    'unknown-variant': {
      state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a',
      targeting: { var: 'pick' },
    },
    'flag-key-match': {
      state: 'ENABLED', variants: { match: true, nomatch: false }, defaultVariant: 'nomatch',
      targeting: { if: [{ '==': [{ var: '$flagd.flagKey' }, 'flag-key-match'] }, 'match', 'nomatch'] },
    },
  },
};

const contexts = [
  {},
  { targetingKey: 'user-1' },
  { targetingKey: 'user-2', email: 'ana@example.com', plan: 'pro' },
  { targetingKey: 'user-3', email: 'qa+bob@corp.io', country: 'de', age: 30 },
  { targetingKey: 'user-4', email: 'qa+kid@corp.io', country: 'de', age: 12 },
  { targetingKey: 'alice', version: '2.1.0', score: 11, a: 3, b: 4 },
  { targetingKey: 'bob', version: 'v1.9.7', score: 10, a: 20, b: 1 },
  { targetingKey: 'carol', version: '1.8.0', score: 3, a: 100, b: 0 },
  { targetingKey: 'dave', version: '3.4.5-beta.1', org: 'acme', tags: ['pro', 'eu'] },
  { targetingKey: 'erin', version: 'not-a-version', org: 'globex', tags: ['basic'] },
  { targetingKey: 'frank', word: 'help', scores: [60, 70, 80], name: 'F', address: { city: 'Oslo' } },
  { targetingKey: 'grace', word: 'hello', scores: [10, 70], name: 'G' },
  { targetingKey: 'heidi', scores: [], pick: 'a' },
  { targetingKey: 'ivan', pick: 'zzz', email: 'ivan@example.com' },
];
for (let i = 0; i < 40; i++) contexts.push({ targetingKey: `key-${i}`, email: `u${i}@x.io`, org: `org-${i % 7}` });

const types = {
  'static-bool': 'boolean', 'disabled': 'boolean', 'no-default': 'string', 'staff': 'boolean',
  'rollout': 'string', 'rollout-by-email': 'string', 'rollout-by-cat': 'number',
  'version-gate': 'string', 'caret': 'boolean', 'three-clause': 'boolean',
  'bool-targeting': 'string', 'numbers': 'number', 'objects': 'object', 'strings': 'string',
  'collections': 'string', 'missing-attr': 'string', 'unknown-variant': 'string',
  'flag-key-match': 'boolean',
};
const defaults = { boolean: false, string: 'default', number: -1, object: {} };

const core = new FlagdCore();
const text = JSON.stringify(flags);
core.setConfigurations(text);
const cases = [];
for (const [flag, type] of Object.entries(types)) {
  for (const context of contexts) {
    const r = core.resolve(type, flag, defaults[type], context);
    cases.push({
      flag, type, context,
      value: r.value === undefined ? null : r.value,
      variant: r.variant === undefined ? null : r.variant,
      reason: r.reason,
      errorCode: r.errorCode === undefined ? null : r.errorCode,
    });
  }
}
// A wrong type and an unknown flag.
cases.push({ flag: 'static-bool', type: 'string', context: {}, ...pick(core.resolve('string', 'static-bool', 'default', {})) });
cases.push({ flag: 'nope', type: 'boolean', context: {}, ...pick(core.resolve('boolean', 'nope', false, {})) });
function pick(r) {
  return { value: r.value, variant: r.variant === undefined ? null : r.variant, reason: r.reason, errorCode: r.errorCode ?? null };
}
process.stdout.write(JSON.stringify({ generator: '@openfeature/flagd-core 4.0.1', flags: text, defaults, cases }, null, 1) + '\n');
