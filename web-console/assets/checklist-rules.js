// The checklist's rules on the tablet: which items are shown, what an answer counts as, whether
// it fails and what evidence a failure still needs. The same decisions as the server's
// `checklists::evaluate` (checklists/src/evaluate.rs), made on the device so the inspector sees a
// problem before the server does; the server still decides. No texts and no page here: problems
// come out as codes (`answer.*`, as the server names them) that checklist.js puts into words.
//
// web-console/tests/checklist_rules.rs evaluates thousands of random fillings of every built-in
// template with this file (under Node) and with `checklists::evaluate`, and fails on any
// disagreement: change the two together.
(function (global) {
  'use strict';

  /**
   * Reads one shown item's answer: {answered, value, invalid, fails, missing}. `invalid` is null or
   * {code, args} (`answer.too_many_photos`, `answer.not_a_number`, `answer.out_of_bounds`);
   * `missing` lists the evidence a failed item still needs ('photo', 'note').
   * `a` is the device's answer: {value, note, photos, raw} (`raw`: what was typed into a number
   * field that did not read as a number).
   */
  function readItem(item, a) {
    const spec = item.answer;
    const out = { answered: false, value: undefined, invalid: null, fails: false, missing: [] };
    const photos = (a.photos || []).length;
    switch (spec.type) {
      case 'photo':
        if (photos > spec.max_photos) out.invalid = { code: 'answer.too_many_photos', args: { max: spec.max_photos } };
        out.answered = photos > 0;
        break;
      case 'yes_no': {
        const v = a.value;
        if (v === 'yes' || v === 'no' || (v === 'na' && spec.allow_na)) {
          out.answered = true;
          out.value = v;
          out.fails = v !== 'na' && v !== spec.pass;
        }
        break;
      }
      case 'number': {
        if (a.raw !== undefined && a.raw !== '' && a.value === undefined) {
          out.invalid = { code: 'answer.not_a_number', args: {} };
          break;
        }
        if (typeof a.value !== 'number') break;
        if (a.value < spec.min || a.value > spec.max) {
          out.invalid = { code: 'answer.out_of_bounds', args: { min: spec.min, max: spec.max } };
          break;
        }
        out.answered = true;
        out.value = a.value;
        out.fails = (spec.pass_min != null && a.value < spec.pass_min) || (spec.pass_max != null && a.value > spec.pass_max);
        break;
      }
      case 'choice': {
        const c = spec.choices.find((x) => x.id === a.value);
        if (c) {
          out.answered = true;
          out.value = c.id;
          out.fails = !!c.fails;
        }
        break;
      }
      case 'text':
        if (typeof a.value === 'string' && a.value.trim()) {
          out.answered = true;
          out.value = a.value.trim();
        }
        break;
      default:
        break;
    }
    if (out.fails && item.failure) {
      for (const kind of item.failure.evidence || []) {
        if (kind === 'photo' && photos === 0) out.missing.push('photo');
        if (kind === 'note' && !(a.note || '').trim()) out.missing.push('note');
      }
    }
    return out;
  }

  /** Whether the answer `value` of item `spec` makes a `show_if: {equals}` hold. */
  function showIfMatches(spec, value, equals) {
    if (!spec) return false;
    if (spec.type === 'number') {
      const e = Number(String(equals).trim());
      return String(equals).trim() !== '' && e === value;
    }
    if (spec.type === 'text') return value === String(equals).trim();
    if (spec.type === 'photo') return false;
    return value === equals;
  }

  /**
   * Every item's state, in template order: a Map from item id to readItem's answer plus `shown`.
   * An item whose `show_if` names an item with an invalid answer (or one hidden for that reason) is
   * hidden and unsettled: nothing more is said about it until the first problem is fixed.
   * `answerOf(id)` gives the device's answer ({} when none).
   */
  function evaluate(template, answerOf) {
    const specs = new Map();
    for (const sec of template.sections) for (const item of sec.items) specs.set(item.id, item.answer);
    const result = new Map();
    const given = new Map();
    const unsettled = new Set();
    for (const sec of template.sections) {
      for (const item of sec.items) {
        let shown = true;
        if (item.show_if) {
          const t = item.show_if.item;
          if (unsettled.has(t)) {
            unsettled.add(item.id);
            shown = false;
          } else {
            shown = given.has(t) && showIfMatches(specs.get(t), given.get(t), item.show_if.equals);
          }
        }
        const st = shown ? readItem(item, answerOf(item.id)) : { answered: false, value: undefined, invalid: null, fails: false, missing: [] };
        st.shown = shown;
        if (shown) {
          if (st.invalid) unsettled.add(item.id);
          else if (st.answered) given.set(item.id, st.value);
        }
        result.set(item.id, st);
      }
    }
    return result;
  }

  /**
   * The submission as the server would judge it: {problems: [[item, code]], findings: [item]} —
   * problems first (an invalid answer; a required item unanswered; a failure without its evidence),
   * else the failed items that become findings.
   */
  function judge(template, answerOf) {
    const states = evaluate(template, answerOf);
    const problems = [];
    const findings = [];
    for (const sec of template.sections) {
      for (const item of sec.items) {
        const st = states.get(item.id);
        if (!st.shown) continue;
        if (st.invalid) problems.push([item.id, st.invalid.code]);
        else if (!st.answered && item.required) problems.push([item.id, 'answer.required']);
        if (st.missing.length) problems.push([item.id, 'answer.evidence_required']);
        else if (st.fails && item.failure) findings.push(item.id);
      }
    }
    return problems.length ? { problems, findings: [] } : { problems, findings };
  }

  /**
   * The answers as the server takes them: an answer's value (none for photo items, none when
   * empty), its note when not blank and its photos that `keepPhoto` keeps (the page keeps only
   * uploaded ones); with `states` (from evaluate) the answers of hidden items are left out, since
   * the server refuses them.
   */
  function wire(template, answers, states, keepPhoto) {
    const types = new Map();
    for (const sec of template.sections) for (const item of sec.items) types.set(item.id, item.answer.type);
    const out = {};
    for (const [id, a] of Object.entries(answers)) {
      if (!types.has(id)) continue;
      if (states && !states.get(id).shown) continue;
      const w = {};
      if (a.value !== undefined && a.value !== null && a.value !== '' && types.get(id) !== 'photo') w.value = a.value;
      if (a.note && a.note.trim()) w.note = a.note;
      const photos = (a.photos || []).filter(keepPhoto || (() => true));
      if (photos.length) w.photos = photos;
      if (Object.keys(w).length) out[id] = w;
    }
    return out;
  }

  const api = { readItem, showIfMatches, evaluate, judge, wire };
  global.QinglingChecklistRules = api;
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
