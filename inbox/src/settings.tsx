import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from './api';
import { ApiFailure } from './api';
import type { ClockPolicy, Metric, Period, Priority, SettingsForm, Weekday } from './settings-form';
import { browserZone, checkForm, fieldKeys, formOf, metricLabels, metrics, patchFor, placeRefusal, priorities, weekdayNames, weekdays } from './settings-form';

/**
 * The account's clock settings (SPEC 9), for owners and admins: business hours, out of office, SLA
 * targets and the answer and snooze clocks. One PATCH per save with only what changed; a refusal is
 * shown at the field it names, and what is shown after a save is the policy the API answered.
 */

const fieldId = (key: string) => `field-${key.replace(/[^\w]+/g, '-')}`;
const errorId = (key: string) => `error-${key.replace(/[^\w]+/g, '-')}`;

/** Every time zone this browser knows, for the zone field's suggestions. */
const zones = (): string[] => {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
};

export function SettingsPage({ api, accountId, onClose }: { api: Api; accountId: string; onClose: () => void }) {
  const path = `/v1/accounts/${encodeURIComponent(accountId)}`;
  const [loaded, setLoaded] = useState<SettingsForm | null>(null);
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const root = useRef<HTMLFormElement>(null);
  const zoneList = useMemo(zones, []);

  const show = (policy: ClockPolicy) => {
    const next = formOf(policy, browserZone());
    setLoaded(next);
    setForm(next);
  };
  useEffect(() => {
    api
      .get<{ policy: ClockPolicy }>(path)
      .then((a) => show(a.policy))
      .catch((e: unknown) => setLoadError(e instanceof ApiFailure ? e.message : 'The settings could not be loaded.'));
  }, [api, path]);
  // Keyboard focus moves to the page's heading once it is there (as a conversation's does when opened).
  const arrived = loaded !== null;
  useEffect(() => {
    if (arrived) heading.current?.focus();
  }, [arrived]);

  if (loadError) return <p class="error settings-page">{loadError}</p>;
  if (!form || !loaded) return <p class="empty settings-page">Loading settings…</p>;

  const set = (patch: Partial<SettingsForm>) => setForm({ ...form, ...patch });
  const setPeriods = (day: Weekday, periods: Period[]) => set({ weekly: { ...form.weekly, [day]: periods } });
  const setTarget = (p: Priority, m: Metric, value: string) => set({ sla: { ...form.sla, [p]: { ...form.sla[p], [m]: value } } });

  /** The attributes that tie a field to its error message, for screen readers and for the eye. */
  const described = (key: string) => ({ id: fieldId(key), 'aria-invalid': errors[key] ? true : undefined, 'aria-describedby': errors[key] ? errorId(key) : undefined });
  const fieldError = (field: string) =>
    errors[field] ? (
      <p class="field-error error" id={errorId(field)} data-field={field}>
        {errors[field]}
      </p>
    ) : null;
  const focusFirstError = () => window.setTimeout(() => root.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);

  const save = async () => {
    setNotice(null);
    const found = checkForm(form);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      focusFirstError();
      return;
    }
    const patch = patchFor(loaded, form);
    if (Object.keys(patch).length === 0) {
      setNotice('Nothing changed.');
      return;
    }
    setSaving(true);
    try {
      const res = await api.call<{ policy: ClockPolicy }>('PATCH', `${path}/policy`, patch);
      show(res.policy);
      setNotice('Saved. Conversations that are not closed follow within a minute.');
    } catch (e) {
      if (e instanceof ApiFailure && e.code === 'validation_failed') setErrors(placeRefusal(e.message, fieldKeys(form)));
      else setErrors({ form: e instanceof ApiFailure ? e.message : 'The server could not be reached; nothing was saved.' });
      focusFirstError();
    } finally {
      setSaving(false);
    }
  };

  /** A duration field: `name` in the form, `key` the API's path for it. */
  const duration = (name: 'outOfOfficeCooldown' | 'slaWarnBefore' | 'answerWithin' | 'snoozeWakeBeforeWindow', key: string, label: string, hint: string) => (
    <div class="field">
      <label for={fieldId(key)}>{label}</label>
      <input {...described(key)} class="duration" value={form[name]} placeholder="off" onInput={(e) => set({ [name]: e.currentTarget.value })} />
      <span class="hint">{hint}</span>
      {fieldError(key)}
    </div>
  );

  return (
    <form
      class="settings-page"
      ref={root}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div class="settings-head">
        <h2 tabIndex={-1} ref={heading}>
          Settings
        </h2>
        <button type="button" class="link" onClick={onClose}>
          Back to the inbox
        </button>
      </div>

      <fieldset>
        <legend>Business hours</legend>
        <label>
          <input type="checkbox" checked={form.hoursOn} onChange={(e) => set({ hoursOn: e.currentTarget.checked })} /> Keep business hours (off: always open)
        </label>
        {fieldError('businessHours')}
        {form.hoursOn && (
          <>
            <div class="field">
              <label for={fieldId('businessHours.timezone')}>Time zone</label>
              <input {...described('businessHours.timezone')} list="time-zones" value={form.timezone} placeholder="Europe/Berlin" onInput={(e) => set({ timezone: e.currentTarget.value })} />
              <datalist id="time-zones">
                {zoneList.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
              {fieldError('businessHours.timezone')}
            </div>
            <p class="hint" id="week-hint">
              Opening periods, "HH:MM" to "HH:MM" (up to 24:00) in this time zone; a period crossing midnight is split over two days.
            </p>
            <table class="week" aria-label="Opening periods by weekday" aria-describedby="week-hint">
              <tbody>
                {weekdays.map((day) => (
                  <tr key={day}>
                    <th scope="row">{weekdayNames[day]}</th>
                    <td>
                      {form.weekly[day].length === 0 && <span class="hint">closed</span>}
                      {form.weekly[day].map((p, i) => {
                        const key = `businessHours.weekly.${day}[${i}]`;
                        const name = `${weekdayNames[day]} period ${i + 1}`;
                        const edit = (patch: Partial<Period>) => setPeriods(day, form.weekly[day].map((q, j) => (j === i ? { ...q, ...patch } : q)));
                        return (
                          <div class="period" key={i}>
                            <input aria-label={`${name} from`} {...described(key)} class="clock" value={p.from} placeholder="09:00" maxLength={5} onInput={(e) => edit({ from: e.currentTarget.value })} />
                            <span aria-hidden="true">–</span>
                            <input aria-label={`${name} to`} aria-invalid={errors[key] ? true : undefined} aria-describedby={errors[key] ? errorId(key) : undefined} class="clock" value={p.to} placeholder="17:00" maxLength={5} onInput={(e) => edit({ to: e.currentTarget.value })} />
                            <button type="button" class="link" aria-label={`Remove ${name}`} onClick={() => setPeriods(day, form.weekly[day].filter((_q, j) => j !== i))}>
                              Remove
                            </button>
                            {fieldError(key)}
                          </div>
                        );
                      })}
                      <button
                        type="button"
                        class="link"
                        aria-label={`Add a period on ${weekdayNames[day]}`}
                        onClick={() => {
                          const last = form.weekly[day].at(-1);
                          setPeriods(day, [...form.weekly[day], last ? { from: last.to, to: '' } : { from: '09:00', to: '17:00' }]);
                        }}
                      >
                        Add period
                      </button>
                      {fieldError(`businessHours.weekly.${day}`)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="field">
              <span class="label">Holidays (closed all day)</span>
              {form.holidays.map((h, i) => {
                const key = `businessHours.holidays[${i}]`;
                return (
                  <div class="period" key={i}>
                    <input
                      type="date"
                      aria-label={`Holiday ${i + 1}`}
                      {...described(key)}
                      value={h}
                      onInput={(e) => set({ holidays: form.holidays.map((x, j) => (j === i ? e.currentTarget.value : x)) })}
                    />
                    <button type="button" class="link" aria-label={`Remove holiday ${i + 1}`} onClick={() => set({ holidays: form.holidays.filter((_x, j) => j !== i) })}>
                      Remove
                    </button>
                    {fieldError(key)}
                  </div>
                );
              })}
              <button type="button" class="link" onClick={() => set({ holidays: [...form.holidays, ''] })}>
                Add holiday
              </button>
              {fieldError('businessHours.holidays')}
            </div>
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>Out of office</legend>
        <label>
          <input type="checkbox" checked={form.outOfOfficeOn} onChange={(e) => set({ outOfOfficeOn: e.currentTarget.checked })} /> Reply to customers who write outside business hours
        </label>
        {fieldError('outOfOffice')}
        {form.outOfOfficeOn && (
          <>
            <div class="field">
              <label for={fieldId('outOfOffice.text')}>Reply</label>
              <textarea {...described('outOfOffice.text')} rows={3} maxLength={4096} value={form.outOfOfficeText} onInput={(e) => set({ outOfOfficeText: e.currentTarget.value })} />
              {fieldError('outOfOffice.text')}
            </div>
            {duration('outOfOfficeCooldown', 'outOfOffice.cooldown', 'At most once per', 'per conversation, e.g. "12h"')}
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>SLA targets</legend>
        <p class="hint" id="sla-hint">
          Durations like "15m", "4h" or "1h30m"; empty: no target. A priority with no target at all uses normal's.
        </p>
        <table class="sla-targets" aria-label="SLA targets by priority" aria-describedby="sla-hint">
          <thead>
            <tr>
              <th scope="col">Priority</th>
              {metrics.map((m) => (
                <th key={m} scope="col">
                  {metricLabels[m]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {priorities.map((p) => (
              <tr key={p}>
                <th scope="row">{p}</th>
                {metrics.map((m) => {
                  const key = `sla.${p}.${m}`;
                  return (
                    <td key={m}>
                      <input aria-label={`${p} ${metricLabels[m].toLowerCase()}`} {...described(key)} class="duration" value={form.sla[p][m]} onInput={(e) => setTarget(p, m, e.currentTarget.value)} />
                      {fieldError(key)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
        {fieldError('sla')}
        {duration('slaWarnBefore', 'slaWarnBefore', 'Warn before a breach', 'an SLA warning this long before the due time; empty: no warnings')}
        <label>
          <input type="checkbox" checked={form.slaBusinessHoursOnly} onChange={(e) => set({ slaBusinessHoursOnly: e.currentTarget.checked })} /> Count business hours only
        </label>
        {fieldError('slaBusinessHoursOnly')}
      </fieldset>

      <fieldset>
        <legend>Other clocks</legend>
        {duration('answerWithin', 'answerWithin', 'Answer within', 'an assignee who has not answered a waiting customer by then loses the conversation to the queue; empty: off')}
        {duration('snoozeWakeBeforeWindow', 'snoozeWakeBeforeWindow', 'Wake a snooze before the window closes', 'how long before the 24-hour window closes a snooze "until the window" wakes')}
      </fieldset>

      {errors.form && (
        <p role="alert" class="error">
          {errors.form}
        </p>
      )}
      {Object.keys(errors).length > 0 && !errors.form && (
        <p role="alert" class="error">
          Nothing was saved: see the fields marked above.
        </p>
      )}
      {notice && Object.keys(errors).length === 0 && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <div class="settings-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button
          type="button"
          onClick={() => {
            setForm(loaded);
            setErrors({});
            setNotice(null);
          }}
        >
          Discard changes
        </button>
      </div>
    </form>
  );
}
