//! The verifiable draw of 双随机、一公开 (DRAW.md specifies it for independent verifiers).
//!
//! * [`key_string`], [`position`] and [`select`]: the selection primitive, RFC 3797 exactly as the
//!   RFC and its reference code compute it.
//! * [`draw`]: a campaign's targets, drawn per stratum (district × risk class) from the committed
//!   directory in its canonical order, and a team for each, drawn from the qualified, available
//!   inspectors with recusal. Every selection is recorded with its key, index and position, so the
//!   draw can be run again by anyone and must come out the same.
//!
//! Pure: the same inputs give the same draw, on any machine.

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::refusal::Refusal;

/// The algorithm named in every commitment and bundle; a change to anything DRAW.md specifies
/// changes it.
pub const ALGORITHM: &str = "qingling-draw/1 (RFC 3797)";

/// RFC 3797 counts selections with two bytes: at most this many from one key.
pub const MAX_POOL: usize = 1 << 16;

// ───────────────────────────── RFC 3797 ─────────────────────────────

/// One public random source and the values it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SourceValues {
    /// Numbers (lottery balls, dice): written sorted, so the order they came out in does not matter.
    Numbers(Vec<u64>),
    /// Anything else (an index's closing value written as text): written as given, trimmed.
    Text(String),
}

/// The RFC 3797 key string of the sources, in the order they were named: each source's numbers
/// sorted ascending, in decimal without leading zeros, each followed by `.`; a text source as
/// given; every source ends with `/`.
pub fn key_string(sources: &[SourceValues]) -> Result<String, Refusal> {
    if sources.is_empty() {
        return Err(Refusal::new("draw.no_sources"));
    }
    let mut key = String::new();
    for (i, source) in sources.iter().enumerate() {
        let empty = || Refusal::new("draw.empty_source").arg("source", (i + 1).to_string());
        match source {
            SourceValues::Numbers(values) => {
                if values.is_empty() {
                    return Err(empty());
                }
                let mut sorted = values.clone();
                sorted.sort_unstable();
                for v in sorted {
                    key.push_str(&v.to_string());
                    key.push('.');
                }
            }
            SourceValues::Text(text) => {
                let text = text.trim();
                if text.is_empty() || text.contains('/') {
                    return Err(empty());
                }
                key.push_str(text);
            }
        }
        key.push('/');
    }
    Ok(key)
}

/// Reads `"9319/2 5 12 8 10/9 18 26 34 41 45"`: sources separated by `/`, each a list of whole
/// numbers separated by spaces (the command line's form).
pub fn parse_sources(text: &str) -> Result<Vec<SourceValues>, Refusal> {
    text.split('/').enumerate().map(|(i, part)| parse_source(i, part)).collect()
}

/// Reads the numbers of source `index` (0-based; refusals name it 1-based), separated by spaces.
pub fn parse_source(index: usize, part: &str) -> Result<SourceValues, Refusal> {
    let values: Result<Vec<u64>, _> = part.split_whitespace().map(str::parse::<u64>).collect();
    match values {
        Ok(v) if !v.is_empty() => Ok(SourceValues::Numbers(v)),
        Ok(_) => Err(Refusal::new("draw.empty_source").arg("source", (index + 1).to_string())),
        Err(_) => Err(Refusal::new("draw.not_a_number").arg("source", (index + 1).to_string()).arg("value", part.trim().chars().take(40).collect::<String>())),
    }
}

/// The remainder of the big-endian number `digest` divided by `m`.
fn digest_mod(digest: &[u8], m: u64) -> u64 {
    let m = u128::from(m);
    let mut r: u128 = 0;
    for b in digest {
        r = ((r << 8) | u128::from(*b)) % m;
    }
    r as u64
}

/// The position (1-based, among the `left` entries not yet chosen) of selection `index`: MD5 of
/// the index as two big-endian bytes, the key, and the index again, read as one unsigned
/// big-endian number, modulo `left`, plus one.
pub fn position(key: &str, index: u16, left: usize) -> usize {
    let mut h = Md5::new();
    h.update(index.to_be_bytes());
    h.update(key.as_bytes());
    h.update(index.to_be_bytes());
    digest_mod(&h.finalize(), left as u64) as usize + 1
}

/// Which of `n` entries (in their original order) are still there, with the k-th found, and an
/// entry taken out or put back, in O(log n): a Fenwick tree of 0/1 counts.
struct Remaining {
    tree: Vec<u32>,
    present: Vec<bool>,
    left: usize,
}

impl Remaining {
    fn new(n: usize) -> Remaining {
        let mut tree = vec![0u32; n + 1];
        for i in 1..=n {
            tree[i] += 1;
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i];
            }
        }
        Remaining { tree, present: vec![true; n], left: n }
    }

    fn update(&mut self, i: usize, up: bool) {
        let mut j = i + 1;
        while j < self.tree.len() {
            if up {
                self.tree[j] += 1;
            } else {
                self.tree[j] -= 1;
            }
            j += j & j.wrapping_neg();
        }
    }

    /// The 0-based original index of the `k`-th (1-based) entry still there.
    fn kth(&self, mut k: usize) -> usize {
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut step = if n == 0 { 0 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) };
        while step > 0 {
            let next = pos + step;
            if next <= n && (self.tree[next] as usize) < k {
                pos = next;
                k -= self.tree[next] as usize;
            }
            step >>= 1;
        }
        pos
    }

    fn remove(&mut self, i: usize) {
        if self.present[i] {
            self.present[i] = false;
            self.left -= 1;
            self.update(i, false);
        }
    }

    fn insert(&mut self, i: usize) {
        if !self.present[i] {
            self.present[i] = true;
            self.left += 1;
            self.update(i, true);
        }
    }

    /// Removes and returns the `k`-th (1-based) entry still there.
    fn take(&mut self, k: usize) -> usize {
        let i = self.kth(k);
        self.remove(i);
        i
    }
}

/// Selects `count` of `pool` entries: their 0-based indices in the pool's order, in the order
/// they were chosen.
pub fn select(key: &str, pool: usize, count: usize) -> Result<Vec<usize>, Refusal> {
    if count > pool {
        return Err(Refusal::new("draw.too_many").arg("count", count.to_string()).arg("pool", pool.to_string()));
    }
    if pool > MAX_POOL {
        return Err(Refusal::new("draw.pool_too_large").arg("pool", pool.to_string()).arg("max", MAX_POOL.to_string()));
    }
    let mut left = Remaining::new(pool);
    Ok((0..count).map(|i| left.take(position(key, i as u16, left.left))).collect())
}

// ───────────────────────────── a campaign's draw ─────────────────────────────

/// Risk and credit class of a facility (A lowest risk … D highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RiskClass {
    A,
    B,
    C,
    D,
}

impl RiskClass {
    pub const ALL: [RiskClass; 4] = [RiskClass::A, RiskClass::B, RiskClass::C, RiskClass::D];
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::A => "A",
            RiskClass::B => "B",
            RiskClass::C => "C",
            RiskClass::D => "D",
        }
    }
    pub fn parse(s: &str) -> Option<RiskClass> {
        RiskClass::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A facility in the directory of inspection targets (检查对象名录库), as the draw sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Its stable code in the directory; the canonical order is by this.
    pub id: String,
    pub district: String,
    pub facility_type: String,
    pub risk: RiskClass,
    /// Open major hazards: always drawn.
    pub open_major_hazards: u32,
    /// On the credit blacklist or watch list: always drawn.
    pub credit_listed: bool,
    /// The last inspection date (ISO) per checklist template id.
    #[serde(default)]
    pub last_inspected: BTreeMap<String, String>,
}

/// An inspector in the directory (执法检查人员名录库), as the draw sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspector {
    pub id: String,
    pub district: String,
    #[serde(default)]
    pub specialisms: BTreeSet<String>,
    /// Not on leave, not suspended, certified.
    pub available: bool,
}

/// A declared relation between an inspector and a facility: a reason to recuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub inspector: String,
    pub target: String,
    /// `former_employer`, `relative`, `financial_interest`, …
    pub relation: String,
}

/// What a campaign draws: its scope, the sampling ratios and the team rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The checklist templates the campaign inspects.
    pub items: Vec<String>,
    /// Districts in scope (empty: every district).
    #[serde(default)]
    pub districts: Vec<String>,
    /// Facility types in scope (empty: every type).
    #[serde(default)]
    pub facility_types: Vec<String>,
    /// Share drawn per risk class, in thousandths (policy: A 50, B 200, C 600, D 1000).
    pub ratio_permille: BTreeMap<RiskClass, u32>,
    /// A target inspected for one of `items` on or after this ISO date is left out (the
    /// campaign's year); always-included targets are drawn anyway.
    #[serde(default)]
    pub exclude_inspected_since: Option<String>,
    pub team_size: u32,
    /// Every team has at least one inspector with each of these.
    #[serde(default)]
    pub required_specialisms: Vec<String>,
    /// Targets one inspector may be given in the campaign.
    pub load_cap: u32,
    /// An inspector is not sent to a facility of their own district.
    #[serde(default)]
    pub not_own_district: bool,
}

/// Why a target is in the campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Chosen {
    /// On a credit list or with an open major hazard: no draw needed.
    Always { reason: String },
    /// Drawn from its stratum: selection `index` under the stratum's key chose `position` (1-based)
    /// of the entries left.
    Drawn { stratum: String, index: u16, position: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnTarget {
    pub target: String,
    #[serde(flatten)]
    pub chosen: Chosen,
}

/// One selection of a team draw: who it chose and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub index: u16,
    pub position: usize,
    pub inspector: String,
    /// The specialism this selection filled (a required one), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_specialism: Option<String>,
    /// Why the chosen inspector was passed over; `None`: assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub target: String,
    pub inspectors: Vec<String>,
    pub picks: Vec<Pick>,
}

/// A stratum's count: how many were eligible and how many the ratio asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stratum {
    pub name: String,
    pub population: usize,
    pub quota: usize,
}

/// The result of a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawn {
    pub key: String,
    pub strata: Vec<Stratum>,
    /// Excluded because inspected for the same items since the plan's date.
    pub excluded: Vec<String>,
    pub targets: Vec<DrawnTarget>,
    pub teams: Vec<Team>,
}

/// The key of one stratum's draw: the sources' key string, then `targets/`, the district, `/`,
/// the risk class and `/`.
pub fn stratum_key(key: &str, district: &str, risk: RiskClass) -> String {
    format!("{key}targets/{district}/{}/", risk.as_str())
}

/// The key of one target's team draw: the sources' key string, then `team/`, the target's id and `/`.
pub fn team_key(key: &str, target: &str) -> String {
    format!("{key}team/{target}/")
}

/// How many of a stratum of `population` are drawn at `permille`: rounded up (a ratio is a floor:
/// "not less than 5 %"), never more than there are.
pub fn quota(population: usize, permille: u32) -> usize {
    (population * permille as usize).div_ceil(1000).min(population)
}

/// Draws a campaign: the targets, then a team for each. `targets`, `inspectors` and `conflicts`
/// are the committed directory snapshots; their order does not matter (each is sorted by id).
pub fn draw(key: &str, plan: &Plan, targets: &[Target], inspectors: &[Inspector], conflicts: &[Conflict]) -> Result<Drawn, Refusal> {
    if plan.team_size == 0 {
        return Err(Refusal::new("draw.team_size").arg("size", "0"));
    }
    let mut sorted: Vec<&Target> = targets.iter().collect();
    if !sorted.is_sorted_by(|a, b| a.id < b.id) {
        sorted.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    }
    if let Some(w) = sorted.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Refusal::new("draw.duplicate_id").arg("id", w[0].id.clone()));
    }
    let in_scope = |t: &Target| {
        (plan.districts.is_empty() || plan.districts.contains(&t.district))
            && (plan.facility_types.is_empty() || plan.facility_types.contains(&t.facility_type))
    };
    let inspected = |t: &Target| {
        plan.exclude_inspected_since
            .as_deref()
            .is_some_and(|since| plan.items.iter().any(|item| t.last_inspected.get(item).is_some_and(|d| d.as_str() >= since)))
    };

    // The campaign's targets as (place in `sorted`, why), so that ordering them by id is ordering
    // numbers.
    let mut chosen: Vec<(usize, Chosen)> = vec![];
    let mut excluded = vec![];
    let mut strata: BTreeMap<(&str, RiskClass), Vec<usize>> = BTreeMap::new();
    for (at, t) in sorted.iter().enumerate().filter(|(_, t)| in_scope(t)) {
        if t.credit_listed || t.open_major_hazards > 0 {
            let reason = if t.credit_listed { "credit_listed" } else { "open_major_hazard" };
            chosen.push((at, Chosen::Always { reason: reason.into() }));
        } else if inspected(t) {
            excluded.push(t.id.clone());
        } else {
            strata.entry((t.district.as_str(), t.risk)).or_default().push(at);
        }
    }
    let mut counts = vec![];
    for ((district, risk), members) in &strata {
        let name = format!("{district}/{}", risk.as_str());
        let q = quota(members.len(), plan.ratio_permille.get(risk).copied().unwrap_or(0));
        counts.push(Stratum { name: name.clone(), population: members.len(), quota: q });
        let skey = stratum_key(key, district, *risk);
        if members.len() > MAX_POOL {
            return Err(Refusal::new("draw.pool_too_large").arg("pool", members.len().to_string()).arg("max", MAX_POOL.to_string()));
        }
        let mut left = Remaining::new(members.len());
        for i in 0..q {
            let p = position(&skey, i as u16, left.left);
            chosen.push((members[left.take(p)], Chosen::Drawn { stratum: name.clone(), index: i as u16, position: p }));
        }
    }
    chosen.sort_unstable_by_key(|(at, _)| *at);
    let members: Vec<&Target> = chosen.iter().map(|(at, _)| sorted[*at]).collect();
    let teams = draw_teams(key, plan, &members, inspectors, conflicts)?;
    let targets = chosen.into_iter().map(|(at, chosen)| DrawnTarget { target: sorted[at].id.clone(), chosen }).collect();
    Ok(Drawn { key: key.to_string(), strata: counts, excluded, targets, teams })
}

/// The inspectors one kind of slot draws from (all of them, or those with one specialism), in
/// canonical order, with those not drawable now (in the team, passed over, at the load cap) out.
struct Candidates {
    members: Vec<usize>,
    left: Remaining,
}

fn draw_teams(key: &str, plan: &Plan, chosen: &[&Target], inspectors: &[Inspector], conflicts: &[Conflict]) -> Result<Vec<Team>, Refusal> {
    let mut pool: Vec<&Inspector> = inspectors.iter().filter(|i| i.available).collect();
    if !pool.is_sorted_by(|a, b| a.id < b.id) {
        pool.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    }
    if let Some(w) = pool.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Refusal::new("draw.duplicate_id").arg("id", w[0].id.clone()));
    }
    // The declared relations of each campaign target, as (inspector's place in the pool,
    // relation); the first in canonical order (by relation) counts.
    let mut relations: Vec<Vec<(usize, &str)>> = vec![vec![]; chosen.len()];
    for c in conflicts {
        let (Ok(t), Ok(i)) = (chosen.binary_search_by(|t| t.id.as_str().cmp(&c.target)), pool.binary_search_by(|p| p.id.as_str().cmp(&c.inspector))) else {
            continue;
        };
        relations[t].push((i, c.relation.as_str()));
    }
    relations.iter_mut().for_each(|r| r.sort_unstable());
    // Districts as numbers: the own-district rule compares them for every pick.
    let mut districts: Vec<&str> = chosen.iter().map(|t| t.district.as_str()).chain(pool.iter().map(|i| i.district.as_str())).collect();
    districts.sort_unstable();
    districts.dedup();
    let district_of = |d: &str| districts.binary_search(&d).unwrap_or_default();
    let target_district: Vec<usize> = chosen.iter().map(|t| district_of(&t.district)).collect();
    let inspector_district: Vec<usize> = pool.iter().map(|i| district_of(&i.district)).collect();

    // Slot kinds: `None` (any inspector), then each required specialism. For each inspector, its
    // place in every list it is on.
    let kinds: Vec<Option<&str>> = std::iter::once(None).chain(plan.required_specialisms.iter().map(|s| Some(s.as_str()))).collect();
    let mut lists: Vec<Candidates> = kinds
        .iter()
        .map(|k| {
            let members: Vec<usize> = (0..pool.len()).filter(|i| k.is_none_or(|s| pool[*i].specialisms.contains(s))).collect();
            Candidates { left: Remaining::new(members.len()), members }
        })
        .collect();
    let places: Vec<Vec<(usize, usize)>> =
        (0..pool.len()).map(|i| lists.iter().enumerate().filter_map(|(l, c)| c.members.binary_search(&i).ok().map(|at| (l, at))).collect()).collect();
    let take_out = |lists: &mut Vec<Candidates>, i: usize| places[i].iter().for_each(|(l, at)| lists[*l].left.remove(*at));
    let put_back = |lists: &mut Vec<Candidates>, i: usize| places[i].iter().for_each(|(l, at)| lists[*l].left.insert(*at));

    let mut load = vec![0u32; pool.len()];
    if plan.load_cap == 0 {
        (0..pool.len()).for_each(|i| take_out(&mut lists, i));
    }
    let mut teams = Vec::with_capacity(chosen.len());
    let mut tkey = String::new();
    for (t, target) in chosen.iter().enumerate() {
        tkey.clear();
        tkey.push_str(key);
        tkey.push_str("team/");
        tkey.push_str(&target.id);
        tkey.push('/');
        let mut team: Vec<usize> = vec![];
        let mut aside: Vec<usize> = vec![];
        let mut picks = vec![];
        let mut index: u32 = 0;
        // One slot per required specialism, then plain slots to the team's size; a specialism
        // the team already has (brought by an earlier pick) needs no slot of its own.
        let mut slots: Vec<usize> = (1..kinds.len()).collect();
        slots.extend(std::iter::repeat_n(0, (plan.team_size as usize).saturating_sub(slots.len())));
        for slot in slots {
            let specialism = kinds[slot];
            if let Some(s) = specialism
                && team.iter().any(|i| pool[*i].specialisms.contains(s))
            {
                continue;
            }
            loop {
                let left = lists[slot].left.left;
                if left == 0 {
                    let short = Refusal::new(if specialism.is_some() { "draw.team_short_specialism" } else { "draw.team_short" })
                        .arg("target", target.id.clone())
                        .arg("size", plan.team_size.to_string())
                        .arg("have", team.len().to_string());
                    return Err(match specialism {
                        Some(s) => short.arg("specialism", s),
                        None => short,
                    });
                }
                let i =
                    u16::try_from(index).map_err(|_| Refusal::new("draw.pool_too_large").arg("pool", index.to_string()).arg("max", MAX_POOL.to_string()))?;
                let p = position(&tkey, i, left);
                index += 1;
                let c = lists[slot].members[lists[slot].left.kth(p)];
                let who = pool[c];
                let skipped = match relations[t].iter().find(|(i, _)| *i == c) {
                    Some((_, relation)) => Some(format!("conflict:{relation}")),
                    None if plan.not_own_district && inspector_district[c] == target_district[t] => Some("own_district".to_string()),
                    None => None,
                };
                let assigned = skipped.is_none();
                picks.push(Pick { index: i, position: p, inspector: who.id.clone(), for_specialism: specialism.map(str::to_string), skipped });
                take_out(&mut lists, c);
                if assigned {
                    team.push(c);
                    load[c] += 1;
                    break;
                }
                aside.push(c);
            }
        }
        // Those passed over, and team members below the cap, may be drawn for the next target.
        for c in aside.into_iter().chain(team.iter().copied().filter(|c| load[*c] < plan.load_cap)) {
            put_back(&mut lists, c);
        }
        teams.push(Team { target: target.id.clone(), inspectors: team.iter().map(|c| pool[*c].id.clone()).collect(), picks });
    }
    Ok(teams)
}

/// Whether `replacement` may take a place in the team for `target` (a reassignment after the
/// draw, with a reason): in the committed directory, available, not already in the team, with no
/// declared conflict with the target, and not of its district when the plan says so.
pub fn check_replacement(plan: &Plan, directory: &InspectorDirectory, target: &Target, team: &Team, replacement: &str) -> Result<(), Refusal> {
    let refuse = |code: &str| Refusal::new(format!("campaign.{code}")).arg("inspector", replacement).arg("target", target.id.clone());
    let found = directory.inspectors.iter().find(|i| i.id == replacement).ok_or_else(|| refuse("unknown_inspector"))?;
    if !found.available {
        return Err(refuse("unavailable"));
    }
    if team.inspectors.iter().any(|i| i == replacement) {
        return Err(refuse("already_in_team"));
    }
    if let Some(c) = directory.conflicts.iter().find(|c| c.inspector == replacement && c.target == target.id) {
        return Err(refuse("conflicted").arg("relation", format!("relation.{}", c.relation)));
    }
    if plan.not_own_district && found.district == target.district {
        return Err(refuse("own_district"));
    }
    Ok(())
}

// ───────────────────────────── the published bundle ─────────────────────────────

/// A named public source of randomness, announced before the draw (the value comes later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceName {
    /// e.g. "中国福利彩票双色球第2026140期开奖号码（红球）".
    pub name: String,
    /// `numbers` (written sorted) or `text`.
    pub kind: String,
}

/// What the campaign publishes before the randomness exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub algorithm: String,
    /// SHA-256 (hex) of the targets directory snapshot's canonical JSON.
    pub targets_sha256: String,
    /// SHA-256 (hex) of the inspectors directory snapshot's canonical JSON (inspectors and conflicts).
    pub inspectors_sha256: String,
    pub plan: Plan,
    pub sources: Vec<SourceName>,
}

/// The inspectors' directory as committed: the inspectors and the declared conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectorDirectory {
    pub inspectors: Vec<Inspector>,
    pub conflicts: Vec<Conflict>,
}

/// Everything needed to run a draw again: the commitment, the directories it names, the
/// sources' values (with who witnessed them) and the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub commitment: Commitment,
    pub targets: Vec<Target>,
    pub inspectors: InspectorDirectory,
    pub source_values: Vec<SourceValues>,
    #[serde(default)]
    pub witnesses: Vec<String>,
    pub result: Drawn,
}

/// The canonical JSON of a value: object keys sorted, no whitespace, UTF-8 as is. Python writes
/// the same with `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
pub fn canonical_json<T: Serialize>(value: &T) -> String {
    // serde_json's maps are sorted (no `preserve_order`): going through a Value sorts every key.
    serde_json::to_value(value).map(|v| v.to_string()).unwrap_or_default()
}

/// SHA-256 (lowercase hex) of the canonical JSON of `value`.
pub fn digest<T: Serialize>(value: &T) -> String {
    use sha2::Sha256;
    let bytes = Sha256::digest(canonical_json(value).as_bytes());
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A directory of targets in canonical order (by id).
pub fn canonical_targets(mut targets: Vec<Target>) -> Vec<Target> {
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    targets
}

/// The inspectors' directory in canonical order: inspectors by id, conflicts by inspector,
/// target and relation.
pub fn canonical_inspectors(mut dir: InspectorDirectory) -> InspectorDirectory {
    dir.inspectors.sort_by(|a, b| a.id.cmp(&b.id));
    dir.conflicts.sort_by(|a, b| (&a.inspector, &a.target, &a.relation).cmp(&(&b.inspector, &b.target, &b.relation)));
    dir
}

impl Commitment {
    /// The commitment to a plan over the two directories and the named sources.
    pub fn new(plan: Plan, targets: &[Target], inspectors: &InspectorDirectory, sources: Vec<SourceName>) -> Commitment {
        Commitment {
            algorithm: ALGORITHM.to_string(),
            targets_sha256: digest(&canonical_targets(targets.to_vec())),
            inspectors_sha256: digest(&canonical_inspectors(inspectors.clone())),
            plan,
            sources,
        }
    }
}

impl Bundle {
    /// Runs the committed draw with the sources' values and keeps everything in one bundle.
    pub fn run(
        commitment: Commitment,
        targets: Vec<Target>,
        inspectors: InspectorDirectory,
        source_values: Vec<SourceValues>,
        witnesses: Vec<String>,
    ) -> Result<Bundle, Refusal> {
        let targets = canonical_targets(targets);
        let inspectors = canonical_inspectors(inspectors);
        if source_values.len() != commitment.sources.len() {
            return Err(Refusal::new("draw.source_count").arg("named", commitment.sources.len().to_string()).arg("given", source_values.len().to_string()));
        }
        let key = key_string(&source_values)?;
        let result = draw(&key, &commitment.plan, &targets, &inspectors.inspectors, &inspectors.conflicts)?;
        Ok(Bundle { commitment, targets, inspectors, source_values, witnesses, result })
    }

    /// Checks the bundle as a verifier would: the directories hash to what was committed, the
    /// algorithm is this one, and the draw run again from the sources' values gives the recorded
    /// result. The first difference, in words, when it does not.
    pub fn verify(&self) -> Result<(), String> {
        let c = &self.commitment;
        if c.algorithm != ALGORITHM {
            return Err(format!("commitment.algorithm: the bundle names {:?}, this verifier runs {ALGORITHM:?}", c.algorithm));
        }
        let targets = digest(&canonical_targets(self.targets.clone()));
        if targets != c.targets_sha256 {
            return Err(format!("targets: the directory in the bundle hashes to {targets}, the commitment says {}", c.targets_sha256));
        }
        let inspectors = digest(&canonical_inspectors(self.inspectors.clone()));
        if inspectors != c.inspectors_sha256 {
            return Err(format!("inspectors: the directory in the bundle hashes to {inspectors}, the commitment says {}", c.inspectors_sha256));
        }
        if self.source_values.len() != c.sources.len() {
            return Err(format!("source_values: {} values for {} named sources", self.source_values.len(), c.sources.len()));
        }
        let key = key_string(&self.source_values).map_err(|e| format!("source_values: {}", e.message(crate::messages::Locale::En)))?;
        let again = draw(&key, &c.plan, &self.targets, &self.inspectors.inspectors, &self.inspectors.conflicts)
            .map_err(|e| format!("the draw does not run again: {}", e.message(crate::messages::Locale::En)))?;
        let (want, have) = (serde_json::to_value(&again).unwrap_or_default(), serde_json::to_value(&self.result).unwrap_or_default());
        match first_difference("result", &want, &have) {
            None => Ok(()),
            Some(d) => Err(d),
        }
    }
}

/// Where two JSON values first differ, as `path: expected … , recorded …`.
fn first_difference(path: &str, want: &serde_json::Value, have: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (want, have) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(&format!("{path}.{k}"), v, w) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: the draw gives {v}, the bundle records nothing")),
                }
            }
            b.keys().find(|k| !a.contains_key(*k)).map(|k| format!("{path}.{k}: the bundle records {}, the draw gives nothing", b[k]))
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), v, w) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| format!("{path}: the draw gives {} entries, the bundle records {}", a.len(), b.len()))
        }
        _ if want == have => None,
        _ => Some(format!("{path}: the draw gives {want}, the bundle records {have}")),
    }
}

/// A synthetic campaign of any size, for the benchmarks (`qingling bench draw`,
/// `cargo bench -p qingling-rules --bench draw`) and the tests: homes in 16 districts and four risk
/// classes, inspectors with specialisms (one in twenty unavailable), a conflict per ten homes,
/// teams of two with a fire specialist, the own-district rule and a load cap.
pub mod synthetic {
    use super::*;

    pub struct Campaign {
        pub key: String,
        pub plan: Plan,
        pub targets: Vec<Target>,
        pub inspectors: Vec<Inspector>,
        pub conflicts: Vec<Conflict>,
    }

    pub fn campaign(facilities: usize, inspectors: usize) -> Campaign {
        let districts: Vec<String> = (0..16).map(|d| format!("1101{d:02}")).collect();
        let targets = (0..facilities)
            .map(|n| Target {
                id: format!("F{n:07}"),
                district: districts[n % districts.len()].clone(),
                facility_type: if n % 5 == 0 { "community_center".into() } else { "nursing_home".into() },
                risk: RiskClass::ALL[(n / 7) % 4],
                open_major_hazards: u32::from(n % 211 == 0),
                credit_listed: n % 503 == 0,
                last_inspected: BTreeMap::new(),
            })
            .collect();
        let specialisms = ["fire", "medical", "food", "building"];
        let people = (0..inspectors)
            .map(|n| Inspector {
                id: format!("I{n:06}"),
                district: districts[n % districts.len()].clone(),
                specialisms: specialisms.iter().enumerate().filter(|(i, _)| (n + i) % 3 == 0).map(|(_, s)| s.to_string()).collect(),
                available: n % 20 != 0,
            })
            .collect();
        let conflicts = (0..facilities / 10)
            .map(|n| Conflict {
                inspector: format!("I{:06}", (n * 7919) % inspectors.max(1)),
                target: format!("F{:07}", n * 10),
                relation: "former_employer".into(),
            })
            .collect();
        let plan = Plan {
            items: vec!["joint-inspection".into()],
            districts: vec![],
            facility_types: vec![],
            ratio_permille: [(RiskClass::A, 50), (RiskClass::B, 200), (RiskClass::C, 600), (RiskClass::D, 1000)].into_iter().collect(),
            exclude_inspected_since: None,
            team_size: 2,
            required_specialisms: vec!["fire".into()],
            load_cap: 40,
            not_own_district: true,
        };
        let key = key_string(&[SourceValues::Numbers(vec![3, 1, 4, 1, 5]), SourceValues::Numbers(vec![92, 65])]).unwrap_or_default();
        Campaign { key, plan, targets, inspectors: people, conflicts }
    }

    /// A bare Fisher–Yates shuffle of the homes' ids (xorshift, no hashing): the yardstick.
    pub fn shuffle(targets: &[Target]) -> Vec<&str> {
        let mut ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..ids.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ids.swap(i, (x % (i as u64 + 1)) as usize);
        }
        ids
    }

    /// The median of timings.
    pub fn median(samples: &[f64]) -> f64 {
        let mut s = samples.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        s.get(s.len() / 2).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests;
