import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api';
import type { TemplateDefinition } from './template-send';
import { pickable, previewOf, templateFields } from './template-send';

/**
 * The composer's template picker (SPEC section 10): the account's APPROVED templates, and a field for
 * each parameter the chosen one takes. Templates the registry does not hold (never synced) leave the
 * composer with its free-text name and language, as before.
 */

/** The account's approved templates, read once per account; empty until they come, or when none are synced. */
export function useApprovedTemplates(api: Api, accountId: string): TemplateDefinition[] {
  const [templates, setTemplates] = useState<TemplateDefinition[]>([]);
  useEffect(() => {
    let live = true;
    api
      .get<{ items: TemplateDefinition[] }>(`/v1/accounts/${encodeURIComponent(accountId)}/templates?status=APPROVED`)
      .then((answer) => {
        if (live) setTemplates(answer.items.filter(pickable));
      })
      // Without the registry the free-text form stays: nothing to say beyond what sending will say.
      .catch(() => undefined);
    return () => {
      live = false;
    };
    // Per account: the Api object is the page's one, and a new one must not read the list again.
  }, [accountId]);
  return templates;
}

export interface PickedTemplate {
  name: string;
  language: string;
  fields: Record<string, string>;
}

const keyOf = (t: { name: string; language: string }) => `${t.name}\u0000${t.language}`;

export function TemplatePicker(props: { templates: TemplateDefinition[]; value: PickedTemplate; onChange: (next: PickedTemplate) => void }) {
  const { templates, value, onChange } = props;
  const chosen = templates.find((t) => keyOf(t) === keyOf(value));
  return (
    <div class="template-picker">
      <label>
        Template
        <select
          value={chosen ? keyOf(chosen) : ''}
          onChange={(e) => {
            const next = templates.find((t) => keyOf(t) === e.currentTarget.value);
            onChange(next ? { name: next.name, language: next.language, fields: {} } : { name: '', language: value.language, fields: {} });
          }}
        >
          <option value="">Choose an approved template…</option>
          {templates.map((t) => (
            <option key={keyOf(t)} value={keyOf(t)}>
              {t.name} ({t.language})
            </option>
          ))}
        </select>
      </label>
      {chosen &&
        templateFields(chosen).map((field) => (
          <label key={field.key}>
            {field.label}
            <input
              type="text"
              inputMode={field.kind === 'link' ? 'url' : 'text'}
              maxLength={field.kind === 'link' ? 2048 : 1024}
              value={value.fields[field.key] ?? ''}
              onInput={(e) => onChange({ ...value, fields: { ...value.fields, [field.key]: e.currentTarget.value } })}
            />
          </label>
        ))}
      {chosen && (
        <p class="template-preview" aria-label="Template preview">
          {previewOf(chosen, value.fields)}
        </p>
      )}
    </div>
  );
}
