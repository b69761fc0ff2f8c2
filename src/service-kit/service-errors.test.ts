// The generic service codes: each precise status is stated in its meaning (so docs/errors.md says
// it), and the file stays a contract any typed client may import (core only).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { httpStatusByKind } from '../core/errors.ts';
import {
  answerCatalogue,
  httpStatusByServiceCode,
  httpStatusOf,
  serviceErrors,
  type ServiceErrorCode,
} from './service-errors.ts';

test('a code answered with a status other than its kind says so in its meaning', () => {
  for (const [code, definition] of Object.entries(serviceErrors)) {
    const status = httpStatusOf(code, definition);
    const precise = httpStatusByServiceCode[code as ServiceErrorCode];
    if (precise === undefined) assert.equal(status, httpStatusByKind[definition.kind], code);
    else {
      assert.equal(status, precise, code);
      assert.match(definition.meaning, new RegExp(`HTTP ${precise}`), code);
    }
  }
});

test('generic codes are numbered 0x0F00..0x0FFF', () => {
  for (const definition of Object.values(serviceErrors)) {
    assert.ok(definition.number >= 0x0f00 && definition.number <= 0x0fff, definition.meaning);
  }
});

test('a service answer catalogue knows its own codes, the generic ones, and nothing else', () => {
  const answers = answerCatalogue({ ownCode: { number: 1, kind: 'conflict', meaning: 'own' } });
  assert.ok(answers.isCode('ownCode'));
  assert.ok(answers.isCode('requestInvalid'));
  assert.ok(!answers.isCode('toString'));
  assert.ok(!answers.isCode('dcpRequestInvalid'));
  assert.equal(answers.definition('requestInvalid'), serviceErrors.requestInvalid);
  assert.equal(answers.definition('ownCode').meaning, 'own');
});

test('service-errors.ts imports nothing but core: every typed client may import it', () => {
  const text = readFileSync(new URL('./service-errors.ts', import.meta.url), 'utf8');
  const specifiers = [...text.matchAll(/from\s+'([^']+)'/g)].map((match) => match[1]!);
  assert.ok(specifiers.length > 0);
  assert.deepEqual(
    specifiers.filter((specifier) => !specifier.startsWith('../core/')),
    [],
  );
});
