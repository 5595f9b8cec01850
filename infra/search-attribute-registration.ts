import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
// Not re-exported from the package root; the encoder is what the SDK's own tests use to register keys.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

/**
 * Makes sure every key is registered on the namespace with its type. Needed beyond the dev server's
 * --search-attribute flag because that flag only takes effect when the SQLite file is created: a file
 * made before a key was added to the list would otherwise never get it.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[],
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, number> = {};
  for (const key of keys) {
    const wanted = encodeSearchAttributeIndexedValueType(key.type);
    if (wanted === undefined) throw new Error(`search attribute ${key.name}: unknown type ${key.type}`);
    const existing = customAttributes?.[key.name];
    if (existing === undefined) missing[key.name] = wanted;
    else if (existing !== wanted) {
      throw new Error(
        `search attribute ${key.name} is registered on namespace ${namespace} with another type (${existing}, want ${key.type}); ` +
          `it cannot be changed on an existing database`,
      );
    }
  }
  if (Object.keys(missing).length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  }
}
